# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Jobs through queue_job's real runner path, and a job next to a user's open transaction."""

from odoo import SUPERUSER_ID, api
from odoo.tests import HttpCase, TransactionCase, tagged

from odoo.addons.queue_job.job import Job

from .common import SemanticSearchTestMixin


@tagged("post_install", "-at_install")
class TestRunjobRoute(SemanticSearchTestMixin, HttpCase):
    """``/queue_job/runjob`` is what the job runner calls for every job: the real path, commits included."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_semantic_search()

    def _runjob(self, job):
        # what the runner does first: mark the job enqueued, then ask Odoo to run it
        job.write({"state": "enqueued"})
        self.env.flush_all()
        response = self.url_open(f"/queue_job/runjob?db={self.env.cr.dbname}&job_uuid={job.uuid}", timeout=60)
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()

    def test_sync_job_through_the_runner(self):
        product = self._create_product("Runner Kettle")
        job = self._sync_jobs(product)
        self._runjob(job)
        self.assertEqual(job.state, "done")
        self.assertIn("synced 1 product", job.result)
        self.assertEqual(product.semantic_index_state, "indexed")
        self.assertIn(product.id, self._found_ids("runner kettle"))

    def test_runner_refuses_a_job_that_is_not_enqueued(self):
        product = self._create_product("Runner Teapot")
        job = self._sync_jobs(product)
        self.env.flush_all()
        response = self.url_open(f"/queue_job/runjob?db={self.env.cr.dbname}&job_uuid={job.uuid}", timeout=60)
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()
        self.assertEqual(job.state, "pending")  # only enqueued jobs run: a forged call does nothing


@tagged("post_install", "-at_install")
class TestConcurrentTransactions(TransactionCase):
    """A sync job runs while a salesperson's save holds the product row: neither waits for the other."""

    def _env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    def _run_job(self, cr, job_uuid):
        env = self._env(cr)
        cr.execute("SET LOCAL lock_timeout = '3s'")  # a job that touched the user's row would fail here
        job = Job.load(env, job_uuid)
        job.set_started()
        job.store()
        job.perform()
        job.set_done()
        job.store()
        env.flush_all()

    def test_job_and_user_save_on_the_same_product(self):
        registry = self.registry
        with registry.cursor() as cr:
            env = self._env(cr)
            product = env["product.template"].create({"name": "Collision Kettle"})
            product_id = product.id
            first_job = env["queue.job"].search([("model_name", "=", "product.template")], order="id desc", limit=1)
            first_uuid = first_job.uuid
        try:
            with registry.cursor() as cr_user:
                # the salesperson's save: the product row stays locked until this transaction ends
                env_user = self._env(cr_user)
                env_user["product.template"].browse(product_id).write({"name": "Collision Kettle Deluxe"})
                env_user.flush_all()
                with registry.cursor() as cr_job:
                    self._run_job(cr_job, first_uuid)  # neither blocked nor failed by the open save
                new_jobs = (
                    env_user["queue.job"]
                    .search([("model_name", "=", "product.template"), ("state", "=", "pending")])
                    .filtered(lambda job: product_id in job.records.ids)
                )
                self.assertEqual(len(new_jobs), 1)
                new_uuid = new_jobs.uuid
            with registry.cursor() as cr_job:
                self._run_job(cr_job, new_uuid)
            with registry.cursor() as cr:
                env = self._env(cr)
                jobs = env["queue.job"].search([("uuid", "in", [first_uuid, new_uuid])])
                self.assertEqual(set(jobs.mapped("state")), {"done"})  # no stuck job
                product = env["product.template"].browse(product_id)
                self.assertEqual(product.name, "Collision Kettle Deluxe")  # no lost edit
                self.assertEqual(product.semantic_index_state, "indexed")
                hits = env["semantic.search.service"].search_products("collision kettle deluxe").hits
                self.assertIn(f"product.template,{product_id}", [hit.id for hit in hits])
        finally:
            with registry.cursor() as cr:
                env = self._env(cr)
                env["product.template"].browse(product_id).with_context(semantic_search_no_enqueue=True).unlink()
                env["queue.job"].search([("model_name", "=", "product.template")]).filtered(
                    lambda job: product_id in job.records.ids
                ).unlink()
                env["semantic.index.state"]._forget("product.template", [product_id])
