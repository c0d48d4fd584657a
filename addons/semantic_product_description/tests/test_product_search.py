# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The product list's "Semantic search" entry: the index's ranking, in rank order, within the user's access."""

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo_search_lib.confidence import without_padding

from .common import SemanticSearchTestMixin


@tagged("post_install", "-at_install")
class TestProductListSearch(SemanticSearchTestMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_semantic_search()
        cls.Product = cls.env["product.template"]
        # the best match is last by name, so rank order and the default order (name) differ
        cls.cups = cls._create_product("Alpha Espresso Cups", description_sale="Two small porcelain cups.")
        cls.grinder = cls._create_product("Beta Coffee Grinder", description_sale="Burr grinder for coffee beans.")
        cls.machine = cls._create_product(
            "Zeta Espresso Machine", description_sale="Espresso machine with milk frother and a 15 bar pump."
        )
        cls.hose = cls._create_product("Garden Hose", description_sale="Twenty metres of green hose.")
        cls._run_jobs()

    def _ranked(self, query, product_ids):
        """The index's own ranking of ``query`` without its padding, restricted to ``product_ids``."""
        hits = without_padding(self.service.search_products(query, limit=50).hits)
        ids = [self.service._parse_product_doc_id(hit.id) for hit in hits]
        return [res_id for res_id in ids if res_id in product_ids]

    def test_the_search_bars_offer_it(self):
        for model in ("product.template", "product.product"):
            arch = self.env[model].get_view(view_type="search")["arch"]
            self.assertIn('name="semantic_search"', arch, model)

    def test_results_come_in_rank_order(self):
        ours = {self.cups.id, self.grinder.id, self.machine.id, self.hose.id}
        found = self.Product.search([("semantic_search", "ilike", "espresso machine"), ("id", "in", list(ours))])
        self.assertEqual(found.ids, self._ranked("espresso machine", ours))
        self.assertEqual(found[0], self.machine)
        # the list and kanban views ask through web_search_read with no order of their own
        page = self.Product.web_search_read(
            [("semantic_search", "ilike", "espresso machine"), ("id", "in", list(ours))], {"name": {}}, order=""
        )
        self.assertEqual([record["id"] for record in page["records"]], found.ids)
        self.assertEqual(self.Product.search_count([("semantic_search", "ilike", "espresso machine")]), len(found))

    def test_a_column_sort_wins_over_rank(self):
        found = self.Product.search(
            [("semantic_search", "ilike", "espresso"), ("id", "in", [self.cups.id, self.machine.id])],
            order="name asc",
        )
        self.assertEqual(found.ids, [self.cups.id, self.machine.id])

    def test_combined_with_other_filters(self):
        found = self.Product.search(
            ["|", ("semantic_search", "ilike", "espresso"), ("name", "=", "Garden Hose"), ("sale_ok", "=", True)]
        )
        self.assertIn(self.machine, found)
        self.assertIn(self.hose, found)

    def test_archived_products_and_other_companies_stay_out(self):
        company_a = self.env["res.company"].create({"name": "Shop A"})
        company_b = self.env["res.company"].create({"name": "Shop B"})
        theirs = self._create_product("Zeta Espresso Machine Pro", company_id=company_b.id)
        moved = self._create_product("Zeta Espresso Machine Lite")
        self._run_jobs()
        # moved to company B and archived behind the index's back: Odoo's own rules decide
        moved.with_context(semantic_search_no_enqueue=True).company_id = company_b
        self.machine.with_context(semantic_search_no_enqueue=True).active = False
        user = new_test_user(
            self.env,
            login="spd_list_user",
            groups="base.group_user",
            company_id=company_a.id,
            company_ids=company_a.ids,
        )
        found = self.Product.with_user(user).search([("semantic_search", "ilike", "espresso")])
        self.assertIn(self.cups, found)
        self.assertNotIn(theirs, found)
        self.assertNotIn(moved, found)
        self.assertNotIn(self.machine, found)
        found_b = self.Product.with_context(allowed_company_ids=[company_b.id]).search(
            [("semantic_search", "ilike", "espresso")]
        )
        self.assertIn(theirs, found_b)

    def test_empty_words_and_other_operators_are_refused(self):
        for leaf in (
            ("semantic_search", "ilike", "  "),
            ("semantic_search", "!=", "cups"),
            ("semantic_search", "=", 7),
        ):
            with self.subTest(leaf=leaf), self.assertRaisesRegex(UserError, "needs words"):
                self.Product.search([leaf])

    def test_an_oversized_query_is_searched_capped(self):
        found = self.Product.search([("semantic_search", "ilike", "espresso machine " * 2000)])
        self.assertIn(self.machine, found)

    def test_index_not_built_is_a_plain_user_error(self):
        self._set_params(store_path=f"{self.store_dir}/empty")
        with self.assertRaisesRegex(UserError, "not built yet"):
            self.Product.search([("semantic_search", "ilike", "espresso")])
        with self.assertRaisesRegex(UserError, "not built yet"):
            self.env["product.product"].search([("product_tmpl_id.semantic_search", "ilike", "espresso")])

    def test_variants_come_in_their_templates_rank_order(self):
        ours = [self.cups.id, self.grinder.id, self.machine.id, self.hose.id]
        variants = self.env["product.product"].search(
            [("semantic_search", "ilike", "espresso machine"), ("product_tmpl_id", "in", ours)]
        )
        self.assertEqual(variants.product_tmpl_id.ids, self._ranked("espresso machine", set(ours)))
        ranked = self._ranked("espresso machine", set(ours))
        self.assertTrue(ranked)
        self.assertEqual(len(variants), 2 * len(ranked), "every variant of each template found (two colours)")
        # a path through the template is a plain filter
        nested = self.env["product.product"].search([("product_tmpl_id.semantic_search", "ilike", "espresso machine")])
        self.assertIn(self.machine.product_variant_ids[0], nested)
