# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import SemanticSearchTestMixin, free_port


@tagged("post_install", "-at_install")
class TestSemanticOutbox(SemanticSearchTestMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_semantic_search()

    def test_create_enqueues_and_drain_indexes(self):
        product = self._create_product("Quokka Teapot")
        jobs = self._open_jobs(product)
        self.assertEqual(jobs.mapped("job_type"), ["index"])
        self.assertEqual(jobs.state, "pending")
        self.assertEqual(product.semantic_index_state, "pending")
        self.assertGreaterEqual(self._drain(), 1)
        self.assertEqual(jobs.state, "done")
        self.assertEqual(product.semantic_index_state, "indexed")
        self.assertTrue(product.semantic_indexed_at)
        self.assertIn(product.id, self._found_ids("quokka teapot"))

    def test_huge_html_description_is_indexed_without_harm(self):
        paragraph = "<p>Caneca de <b>cerâmica</b> esmaltada &amp; resistente.</p><script>alert(1)</script>"
        description = paragraph * (1_000_000 // len(paragraph) + 1)  # about 1 MB of HTML
        product = self._create_product("Numbat Caneca Gigante", description_sale=description)
        self._drain()
        self.assertEqual(product.semantic_index_state, "indexed")
        self.assertFalse(product.semantic_index_error)
        self.assertIn(product.id, self._found_ids("numbat caneca"))
        document = self.service._product_document(product)
        self.assertNotIn("<p>", document.description)
        self.assertNotIn("alert", document.description)

    def test_repeated_edits_coalesce(self):
        product = self._create_product("Wombat Mug")
        product.name = "Wombat Mug XL"
        product.list_price = 12.0
        product.write({"description_sale": "A big mug", "list_price": 13.0})
        self.assertEqual(len(self._open_jobs(product)), 1)
        self._drain()
        self.assertIn(product.id, self._found_ids("wombat mug xl"))

    def test_irrelevant_write_does_not_enqueue(self):
        product = self._create_product("Numbat Bowl")
        self._drain()
        product.write({"sequence": 42, "volume": 2.0})
        self.assertFalse(self._open_jobs(product))
        self.assertEqual(product.semantic_index_state, "indexed")

    def test_archive_unarchive_unlink(self):
        product = self._create_product("Bilby Spoon")
        self._drain()
        self.assertIn(product.id, self._found_ids("bilby spoon"))

        product.action_archive()
        self.assertEqual(self._open_jobs(product).mapped("job_type"), ["delete"])
        self._drain()
        self.assertNotIn(product.id, self._found_ids("bilby spoon"))
        self.assertEqual(product.semantic_index_state, "excluded")

        product.action_unarchive()
        self.assertEqual(self._open_jobs(product).mapped("job_type"), ["index"])
        self._drain()
        self.assertIn(product.id, self._found_ids("bilby spoon"))

        product_id = product.id
        product.unlink()
        jobs = self.Outbox.search([("res_id", "=", product_id), ("state", "=", "pending")])
        self.assertEqual(jobs.mapped("job_type"), ["delete"])
        self._drain()
        self.assertNotIn(product_id, self._found_ids("bilby spoon"))

    def test_renamed_category_tag_attribute_and_variant_reindex(self):
        product = self._create_product("Emu Ladle")
        self._drain()
        self.category.name = "Cookware"
        self.assertEqual(self._open_jobs(product).mapped("job_type"), ["index"])
        self._drain()
        self.assertEqual(self.service._product_document(product).category, "All > Cookware")
        self.tag.name = "present"
        self.assertTrue(self._open_jobs(product))
        self._drain()
        self.color.value_ids[0].name = "Crimson"
        self.assertTrue(self._open_jobs(product))
        self._drain()
        self.material.name = "Metal"
        self.assertTrue(self._open_jobs(product))
        self._drain()
        product.product_variant_ids[0].default_code = "EMU-1"
        self.assertTrue(self._open_jobs(product))
        self._drain()
        self.assertIn(product.id, self._found_ids("crimson emu ladle cookware"))

    def test_not_for_sale_is_not_indexed(self):
        product = self._create_product("Dingo Whistle", sale_ok=False)
        self._drain()
        self.assertNotIn(product.id, self._found_ids("dingo whistle"))
        self.assertEqual(product.semantic_index_state, "excluded")

    def test_product_deleted_while_job_waits(self):
        product = self._create_product("Platypus Jug")
        self._drain()
        product.name = "Platypus Jug 2"
        job = self._open_jobs(product, "index")
        product_id = product.id
        # deleted without going through the outbox: only the stale index job remains
        product.with_context(semantic_search_no_enqueue=True).unlink()
        self.assertEqual(self._drain(), 1)
        self.assertEqual(job.state, "done")
        self.assertFalse(job.last_error)
        self.assertNotIn(product_id, self._found_ids("platypus jug"))

    def test_store_unreachable_retries_with_backoff(self):
        self._set_params(store_mode="qdrant", qdrant_url=f"http://127.0.0.1:{free_port()}")
        # the form still saves: enqueueing never touches the store
        product = self._create_product("Echidna Grater")
        product.list_price = 10.0
        job = self._open_jobs(product)
        before = fields.Datetime.now()
        with mute_logger("odoo.addons.semantic_product_description.models.semantic_outbox"):
            self._drain()
        self.assertEqual(job.state, "failed")
        self.assertEqual(job.attempts, 1)
        self.assertIn("unreachable", job.last_error)
        delay = (job.next_attempt_at - before).total_seconds()
        self.assertTrue(20 <= delay <= 40, delay)  # 30 s +-20 %
        self.assertEqual(product.semantic_index_state, "error")
        # not due yet: the next drain leaves it alone
        self.assertEqual(self._drain(), 0)
        # due again, then give up after max_attempts
        job.max_attempts = 3
        with mute_logger("odoo.addons.semantic_product_description.models.semantic_outbox"):
            for _attempt in range(2):
                job.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
                self._drain()
        self.assertEqual(job.attempts, 3)
        self.assertEqual(job.state, "dead")
        # an edit while the job is dead opens a new one
        product.name = "Echidna Grater 2"
        self.assertEqual(len(self._open_jobs(product)), 1)
        self.assertNotEqual(self._open_jobs(product), job)
        # the store comes back: retry the dead job (superseded) and drain the new one
        self._set_params(store_mode="edge")
        job.action_retry()
        self.assertEqual(job.state, "done")
        self._drain()
        self.assertEqual(product.semantic_index_state, "indexed")
        self.assertIn(product.id, self._found_ids("echidna grater"))

    def test_retry_dead_job(self):
        product = self._create_product("Kookaburra Tray")
        job = self._open_jobs(product)
        job.write({"state": "dead", "attempts": 8, "last_error": "boom"})
        job.action_retry()
        self.assertEqual(job.state, "pending")
        self.assertEqual(job.attempts, 0)
        self.assertFalse(job.last_error)
        self._drain()
        self.assertEqual(job.state, "done")

    def test_backoff_grows_and_is_capped(self):
        for attempts, base in ((1, 30), (2, 60), (3, 120), (8, 3600), (20, 3600)):
            delay = self.Outbox._backoff_seconds(attempts)
            self.assertTrue(base * 0.8 <= delay <= base * 1.2, (attempts, delay))

    def test_reindex_catalogue(self):
        product = self._create_product("Cassowary Plate")
        # the index was empty, and the product's own job is lost: a reindex still finds it
        self._open_jobs(product).write({"state": "done"})
        self.Outbox.action_reindex_catalogue()
        reindex = self.Outbox.search([("job_type", "=", "reindex"), ("state", "=", "pending")])
        self.assertEqual(len(reindex), 1)
        self.Outbox.action_reindex_catalogue()  # coalesces
        self.assertEqual(len(self.Outbox.search([("job_type", "=", "reindex"), ("state", "=", "pending")])), 1)
        self._drain()
        self.assertEqual(reindex.state, "done")
        self.assertIn(product.id, self._found_ids("cassowary plate"))
        self.assertEqual(product.semantic_index_state, "indexed")
        self.assertTrue(self.service.index_status()["built"])

    def test_bad_record_does_not_block_the_batch(self):
        good = self._create_product("Lyrebird Cup")
        bad = self._create_product("Lyrebird Saucer")
        # a blank name cannot happen through the ORM (required); force one in SQL
        self.env.cr.execute(
            "UPDATE product_template SET name = jsonb_build_object('en_US', ' ') WHERE id = %s", [bad.id]
        )
        bad.invalidate_recordset(["name"])
        self._drain()
        self.assertEqual(self._open_jobs(bad), self.Outbox)
        bad_job = self.Outbox.search([("res_id", "=", bad.id), ("job_type", "=", "index")])
        self.assertEqual(bad_job.state, "dead")
        self.assertIn("name", bad_job.last_error)
        self.assertEqual(bad.semantic_index_state, "error")
        self.assertIn(good.id, self._found_ids("lyrebird cup"))
