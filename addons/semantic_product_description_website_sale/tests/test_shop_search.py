# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""``/shop?search=...`` through the hybrid index, as a visitor sees it."""

import re
import urllib.parse

from odoo.tests import HttpCase, TransactionCase, tagged

from odoo.addons.semantic_product_description.tests.common import SemanticSearchTestMixin, free_port
from odoo.addons.semantic_product_description.tests.test_ui import (
    assert_every_string_has_a_brazilian_portuguese_translation,
)

from odoo_search_lib import Filters
from odoo_search_lib.confidence import without_padding

#: The product links of the shop's grid, in page order (``/shop/<slug>-<id>``).
PRODUCT_LINK_RE = re.compile(r'itemprop="name"[^>]*?href="/shop/[^"?#]*?-(\d+)[?"#]')
#: The shop's notice when Odoo's own search replaced the customer's word by the closest product word.
REWRITE_NOTICE_RE = re.compile(r"Showing results for '<span>([^<]*)</span>'")
LOGGER = "odoo.addons.semantic_product_description_website_sale.models.product_template"
#: The label of the shop's Sort By button (desktop).
SORT_LABEL_RE = re.compile(r'Sort By:</small>\s*<span class="d-none d-lg-inline">\s*(?:<span[^>]*>)?([^<]+)<')


@tagged("post_install", "-at_install")
class TestShopSearch(SemanticSearchTestMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_semantic_search()
        cls._set_params(language="pt")
        cls.website = cls.env["website"].get_current_website()
        cls.tees = cls.env["product.public.category"].create({"name": "Camisetas"})
        shirt = {"is_published": True, "public_categ_ids": [(6, 0, cls.tees.ids)]}
        cls.black_tee = cls._create_product(
            "Camiseta preta básica", description_sale="Camiseta preta de algodão, gola redonda.", **shirt
        )
        cls.white_tee = cls._create_product(
            "Camiseta branca básica", description_sale="Camiseta branca de algodão, gola redonda.", **shirt
        )
        cls.polo = cls._create_product(
            "Camisa polo preta", description_sale="Camisa polo preta de piquet.", list_price=30.0, **shirt
        )
        cls.hidden_tee = cls._create_product(
            "Camiseta preta edição limitada", description_sale="Camiseta preta de algodão.", is_published=False
        )
        cls.sneakers = cls._create_product(
            "Tênis de corrida preto", description_sale="Tênis leve para corrida.", is_published=True
        )
        cls.headphones = cls._create_product(
            "Fone de ouvido sem fio", description_sale="Fone bluetooth com estojo.", is_published=True
        )
        cls.ours = {
            product.id
            for product in (cls.black_tee, cls.white_tee, cls.polo, cls.hidden_tee, cls.sneakers, cls.headphones)
        }
        cls._run_jobs()

    def _shop(self, path="/shop", **params):
        """The ids of our products on a shop page, in the order shown."""
        response = self.url_open(f"{path}?{urllib.parse.urlencode(params)}")
        self.assertEqual(response.status_code, 200)
        shown = [int(res_id) for res_id in PRODUCT_LINK_RE.findall(response.text)]
        return [res_id for res_id in dict.fromkeys(shown) if res_id in self.ours]

    def _ranked(self, query):
        """The index's ranking of ``query`` for a visitor of this website, without its padding."""
        filters = Filters(published=True, website_id=self.website.id)
        hits = without_padding(self.service.search_products(query, limit=50, filters=filters).hits)
        ids = [self.service._parse_product_doc_id(hit.id) for hit in hits]
        return [res_id for res_id in ids if res_id in self.ours]

    def test_a_misspelt_search_finds_the_product_in_rank_order(self):
        shown = self._shop(search="camizeta preta")
        self.assertEqual(shown[0], self.black_tee.id)
        self.assertEqual(shown, self._ranked("camizeta preta"))
        self.assertNotIn(self.hidden_tee.id, shown)

    def test_the_shop_autocomplete_ranks_too(self):
        options = {
            "displayImage": False,
            "displayDescription": False,
            "displayExtraLink": False,
            "displayDetail": False,
            "allowFuzzy": True,
        }
        params = {"search_type": "products", "term": "camizeta preta", "order": "name asc", "limit": 3}
        answer = self.make_jsonrpc_request(
            "/website/snippet/autocomplete", dict(params, max_nb_chars=100, options=options)
        )
        self.assertEqual(answer["results"][0]["website_url"], self.black_tee.website_url)
        self.assertLessEqual(len(answer["results"]), 3)

    def test_an_oversized_search_is_answered(self):
        with self.assertNoLogs(LOGGER, "WARNING"):  # by the index, not by Odoo's own search
            self.assertIn(self.black_tee.id, self._shop(search="camiseta preta " * 80))

    def test_unpublished_products_never_appear(self):
        self.assertNotIn(self.hidden_tee.id, self._shop(search="Camiseta preta edição limitada"))
        # published in the index, unpublished since: the shop's own domain decides
        self.black_tee.with_context(semantic_search_no_enqueue=True).is_published = False
        self.assertNotIn(self.black_tee.id, self._shop(search="camiseta preta"))

    def test_no_padding_for_what_the_shop_does_not_sell(self):
        self.assertEqual(self._shop(search="pneu de caminhão"), [])
        everything = self.service.search_products("pneu de caminhão", limit=50).hits
        self.assertTrue(everything, "the index alone pads the list with whatever is closest")

    def test_the_price_range_covers_what_the_index_found(self):
        self.env.ref("website_sale.filter_products_price").active = True
        # Odoo's own range matches the words on names: "camizeta" is on none, so it was 0 to 0
        page = self.url_open("/shop?search=camizeta+preta").text
        self.assertIn('max="49.900000"', page)
        self.assertNotIn('max="0.000000"', page)

    def test_page_two_continues_the_ranking(self):
        ranked = self._ranked("camiseta preta")
        self.assertGreaterEqual(len(ranked), 3)
        first = self._shop(search="camiseta preta", ppg=2)
        second = self._shop(path="/shop/page/2", search="camiseta preta", ppg=2)
        self.assertEqual(first, ranked[:2])
        self.assertEqual(second, ranked[2:4])

    def test_category_filter_and_customer_sort_apply_to_the_ranking(self):
        slug = self.env["ir.http"]._slug(self.tees)
        in_tees = self._shop(path=f"/shop/category/{slug}", search="preto")
        self.assertEqual(
            in_tees, [res_id for res_id in self._ranked("preto") if res_id in self.tees.product_tmpl_ids.ids]
        )
        self.assertNotIn(self.sneakers.id, in_tees)
        by_price = self._shop(path=f"/shop/category/{slug}", search="camiseta preta", order="list_price asc")
        self.assertEqual(by_price[0], self.polo.id)

    def test_the_shop_filters_more_candidates_than_a_list_shows(self):
        """A category page filters a deeper candidate list than "Maximum Results per Query"."""
        self._set_params(search_max_limit="1")
        slug = self.env["ir.http"]._slug(self.tees)
        in_tees = self._shop(path=f"/shop/category/{slug}", search="preto")
        self.assertEqual(
            in_tees, [res_id for res_id in self._ranked("preto") if res_id in self.tees.product_tmpl_ids.ids]
        )
        self.assertGreater(len(in_tees), 1)

    def _rewritten_to(self, search):
        """The word Odoo's own search used instead of ``search``, or ``None``."""
        notice = REWRITE_NOTICE_RE.search(self.url_open(f"/shop?search={search}").text)
        return notice and notice.group(1)

    def test_the_customers_words_are_kept(self):
        # Odoo's own search turns one word it does not know into the closest product word (below)
        self.assertIsNone(self._rewritten_to("camisetta"))
        self.assertEqual(self._shop(search="camisetta")[0], self._ranked("camisetta")[0])

    def test_index_down_falls_back_to_odoo_search(self):
        self._set_params(store_mode="qdrant", qdrant_url=f"http://127.0.0.1:{free_port()}")
        with self.assertLogs(LOGGER, "WARNING") as logs:
            shown = self._shop(search="Camiseta")
            self.assertEqual(self._shop(search="camizeta preta"), [], "Odoo's own search knows no such word")
        self.assertIn("Odoo's own search", logs.output[0])
        self.assertEqual(set(shown), {self.black_tee.id, self.white_tee.id})
        with self.assertLogs(LOGGER, "WARNING"):
            self.assertEqual(self._rewritten_to("camisetta"), "camiseta")

    def _sort_label(self, **params):
        response = self.url_open(f"/shop?{urllib.parse.urlencode(params)}")
        self.assertEqual(response.status_code, 200)
        return SORT_LABEL_RE.search(response.text).group(1).strip()

    def test_sort_by_says_relevance_while_the_index_ranks(self):
        self.assertEqual(self._sort_label(search="camiseta"), "Relevance")
        self.assertEqual(self._sort_label(search="camiseta", order="name asc"), "Name (A-Z)")
        self.assertEqual(self._sort_label(), "Featured")  # no search: the shop's default sort
        self._set_params(store_mode="qdrant", qdrant_url=f"http://127.0.0.1:{free_port()}")
        with self.assertLogs(LOGGER, "WARNING"):  # Odoo's own search answers, in its own order
            self.assertEqual(self._sort_label(search="camiseta"), "Featured")

    def test_one_page_asks_the_index_once(self):
        """The price range and the product grid share one ranking: with the index down, one warning."""
        self.env.ref("website_sale.filter_products_price").active = True
        self._set_params(store_mode="qdrant", qdrant_url=f"http://127.0.0.1:{free_port()}")
        with self.assertLogs(LOGGER, "WARNING") as logs:
            self.assertEqual(set(self._shop(search="camiseta")), {self.black_tee.id, self.white_tee.id})
        self.assertEqual(len(logs.output), 1, logs.output)


@tagged("post_install", "-at_install")
class TestTranslations(TransactionCase):
    def test_every_user_visible_string_has_a_brazilian_portuguese_translation(self):
        assert_every_string_has_a_brazilian_portuguese_translation(
            self, "semantic_product_description_website_sale", set()
        )
