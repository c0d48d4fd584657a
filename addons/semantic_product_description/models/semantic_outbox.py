# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Persistent outbox of search work, drained by an ``ir.cron``.

A change that affects the search index writes a row here in the same
transaction as the change itself, so nothing is lost when the vector store
is down. The cron claims ready rows with ``FOR UPDATE SKIP LOCKED`` (several
cron threads, workers or nodes can drain concurrently), groups them by job
type and calls ``_process_<job_type>_jobs(jobs)``.

Adding a job type from another addon::

    job_type = fields.Selection(selection_add=[("webhook", "Webhook delivery")],
                                ondelete={"webhook": "cascade"})

    def _process_webhook_jobs(self):
        ...  # mark per-job failures with job._mark_failed(...) and return them

A handler returns the jobs that are not done: the ones it marked failed, and
the ones it deferred untouched (they stay due and run in the next batch).
Handlers must be idempotent and re-check that the work is still relevant:
a row may run twice (a crash after the store write, before the commit).
"""

import json
import logging
import random
from collections import defaultdict
from datetime import timedelta

import psycopg2

from odoo import api, fields, models
from odoo.tools import SQL

from odoo_search_lib import LLMError, SearchLibError

_logger = logging.getLogger(__name__)

#: States a row holds while its work is still to do (the coalescing index covers them).
OPEN_STATES = ("pending", "failed")
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
ERROR_MAX_CHARS = 2000


class SemanticOutbox(models.Model):
    _name = "semantic.outbox"
    _description = "Semantic Search Outbox"
    _order = "id desc"

    job_type = fields.Selection(
        selection=[
            ("index", "Index"),
            ("delete", "Delete"),
            ("describe", "Generate description"),
            ("reindex", "Reindex catalogue"),
            ("webhook", "Webhook delivery"),
        ],
        required=True,
        index=True,
        readonly=True,
    )
    res_model = fields.Char(string="Model", required=True, index=True, readonly=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model", index=True, readonly=True)
    company_id = fields.Many2one("res.company", index=True, readonly=True)
    payload = fields.Json(readonly=True)
    state = fields.Selection(
        selection=[
            ("pending", "Pending"),
            ("done", "Done"),
            ("failed", "Failed (will retry)"),
            ("dead", "Dead"),
        ],
        default="pending",
        required=True,
        index=True,
        readonly=True,
    )
    attempts = fields.Integer(default=0, readonly=True)
    max_attempts = fields.Integer(default=8, readonly=True)
    next_attempt_at = fields.Datetime(
        string="Next Attempt", default=fields.Datetime.now, required=True, index=True, readonly=True
    )
    last_error = fields.Text(readonly=True)

    def init(self):
        # At most one open row per (job_type, record): repeated edits coalesce into it.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS semantic_outbox_open_job_uniq
                ON semantic_outbox (job_type, res_model, res_id)
             WHERE state IN ('pending', 'failed')
            """
        )
        # The claim query reads only open rows, by due date.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS semantic_outbox_claim_idx
                ON semantic_outbox (next_attempt_at, id)
             WHERE state IN ('pending', 'failed')
            """
        )

    @api.depends("job_type", "res_model", "res_id")
    def _compute_display_name(self):
        labels = dict(self._fields["job_type"]._description_selection(self.env))
        for job in self:
            job.display_name = f"{labels.get(job.job_type, job.job_type)} {job.res_model},{job.res_id}"

    # ------------------------------------------------------------------
    # Enqueue
    # ------------------------------------------------------------------

    @api.model
    def _enqueue(self, job_type, res_model, res_ids, companies=None, payload=None):
        """Add (or coalesce into) one open job per record, in the caller's transaction.

        ``companies`` maps a record id to its company id (or False). A record
        that already has an open job of this type keeps that row: its payload
        and company are refreshed, its attempts and schedule kept.
        """
        res_ids = sorted({int(res_id) for res_id in res_ids if res_id is not None})
        if not res_ids:
            return
        companies = companies or {}
        max_attempts = self.env["semantic.search.service"]._get_param_int("outbox_max_attempts", minimum=1)
        payload_json = json.dumps(payload) if payload is not None else None
        self.flush_model()  # the conflict target reads the rows' state
        rows = [
            SQL(
                "(%s, %s, %s, %s, %s::jsonb, 'pending', 0, %s, (now() at time zone 'UTC'), "
                "%s, (now() at time zone 'UTC'), %s, (now() at time zone 'UTC'))",
                job_type,
                res_model,
                res_id,
                companies.get(res_id) or None,
                payload_json,
                max_attempts,
                self.env.uid,
                self.env.uid,
            )
            for res_id in res_ids
        ]
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO semantic_outbox (job_type, res_model, res_id, company_id, payload, state, attempts,
                                             max_attempts, next_attempt_at, create_uid, create_date,
                                             write_uid, write_date)
                VALUES %s
                ON CONFLICT (job_type, res_model, res_id) WHERE state IN ('pending', 'failed')
                DO UPDATE SET payload = COALESCE(EXCLUDED.payload, semantic_outbox.payload),
                              company_id = EXCLUDED.company_id,
                              write_uid = EXCLUDED.write_uid,
                              write_date = EXCLUDED.write_date
                """,
                SQL(", ").join(rows),
            )
        )
        self.invalidate_model()
        self._trigger_processing()

    @api.model
    def _enqueue_reindex(self):
        """Queue one full rebuild of the product index (coalesces with an open one)."""
        self._enqueue("reindex", "product.template", [0], payload={"requested_by": self.env.uid})

    @api.model
    def _trigger_processing(self, at=None):
        """Wake the outbox cron after this transaction (once per transaction for "now")."""
        data = self.env.cr.precommit.data
        if at is None:
            if data.get("semantic_outbox.triggered"):
                return
            data["semantic_outbox.triggered"] = True
        else:
            # the cron runs with a one-minute precision: one trigger per minute is enough
            # (a batch of failed webhook deliveries would otherwise add one trigger each)
            at = at.replace(second=0, microsecond=0) + timedelta(minutes=1)
            planned = data.setdefault("semantic_outbox.triggered_at", set())
            if at in planned:
                return
            planned.add(at)
        cron = self.env.ref("semantic_product_description.ir_cron_semantic_outbox", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger(at)

    # ------------------------------------------------------------------
    # Drain
    # ------------------------------------------------------------------

    @api.model
    def _claim(self, limit):
        """Lock up to ``limit`` due rows; rows locked by another drainer are skipped, not waited for."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM semantic_outbox
                 WHERE state IN ('pending', 'failed')
                   AND next_attempt_at <= (clock_timestamp() at time zone 'UTC')
                 ORDER BY id
                 LIMIT %s
                   FOR UPDATE SKIP LOCKED
                """,
                limit,
            )
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _count_due(self):
        self.flush_model()
        self.env.cr.execute(
            """
            SELECT count(*) FROM semantic_outbox
             WHERE state IN ('pending', 'failed')
               AND next_attempt_at <= (clock_timestamp() at time zone 'UTC')
            """
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _cron_process(self, batch_size=None):
        """Cron entry point: process one batch and report progress.

        ``ir.cron`` commits after each call and calls again (up to 10 times per
        run) while ``remaining`` is not zero, so this method never commits
        itself. Returns the number of jobs handled.
        """
        limit = batch_size or self.env["semantic.search.service"]._get_param_int("outbox_batch_size", minimum=1)
        jobs = self._claim(limit)
        if jobs:
            jobs._process()
        remaining = self._count_due()
        self.env["ir.cron"]._notify_progress(done=len(jobs), remaining=remaining)
        return len(jobs)

    def _process(self):
        """Run claimed jobs, one handler call per job type."""
        by_type = defaultdict(lambda: self.browse())
        for job in self:
            by_type[job.job_type] |= job
        for job_type, jobs in by_type.items():
            handler = getattr(jobs, f"_process_{job_type}_jobs", None)
            if handler is None:
                jobs._mark_failed(f"no handler for job type {job_type!r}", permanent=True)
                continue
            try:
                with self.env.cr.savepoint():
                    # the jobs the handler did not finish (failed or deferred)
                    failed = handler() or self.browse()
            except psycopg2.Error:
                raise  # serialization failures and the like: let the cron retry the whole batch
            except SearchLibError as exc:
                _logger.warning("Semantic outbox: %s job(s) of type %s failed: %s", len(jobs), job_type, exc)
                jobs._mark_failed(str(exc))
                continue
            except Exception as exc:
                _logger.exception("Semantic outbox: %s job(s) of type %s crashed", len(jobs), job_type)
                jobs._mark_failed(f"{type(exc).__name__}: {exc}")
                continue
            (jobs - failed)._mark_done()

    def _mark_done(self):
        if self:
            self.write({"state": "done", "last_error": False})

    def _mark_failed(self, error, permanent=False, retry_in=None):
        """Count an attempt; retry later with exponential backoff and jitter, or give up (dead).

        ``retry_in`` (seconds) replaces the outbox's own backoff and attempt limit, for job
        types that follow their own retry schedule (webhook deliveries): the caller decides
        when the job is dead, with ``permanent=True``.
        """
        error = (error or "")[:ERROR_MAX_CHARS]
        now = fields.Datetime.now()
        next_attempts = []
        for job in self:
            attempts = job.attempts + 1
            dead = permanent or (retry_in is None and attempts >= job.max_attempts)
            values = {"attempts": attempts, "last_error": error, "state": "dead" if dead else "failed"}
            if not dead:
                delay = retry_in if retry_in is not None else self._backoff_seconds(attempts)
                values["next_attempt_at"] = now + timedelta(seconds=delay)
                next_attempts.append(values["next_attempt_at"])
            job.write(values)
        self._after_failure(error)
        if next_attempts:
            self._trigger_processing(at=min(next_attempts))
        return self

    @api.model
    def _backoff_seconds(self, attempts):
        """30 s, 60 s, 120 s... capped at one hour, +-20 % jitter so retries do not stampede."""
        delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
        return delay * random.uniform(0.8, 1.2)

    def _after_failure(self, error):
        """Show the error on the products whose sync failed."""
        product_ids = [
            job.res_id
            for job in self
            if job.job_type in ("index", "delete") and job.res_model == "product.template" and job.res_id
        ]
        self.env["semantic.search.service"]._set_product_index_state(product_ids, "error", error)

    # ------------------------------------------------------------------
    # Handlers (one per job type)
    # ------------------------------------------------------------------

    def _process_index_jobs(self):
        return self._sync_search_documents()

    def _process_delete_jobs(self):
        return self._sync_search_documents()

    def _sync_search_documents(self):
        """Index and delete jobs both make the index match the records as they are *now*.

        A product deleted while its index job waited is removed from the index
        (a no-op if it never got there); an archived one too; a delete job for
        a product that came back is an upsert.
        """
        service = self.env["semantic.search.service"]
        failed = self.browse()
        by_model = defaultdict(lambda: self.browse())
        for job in self:
            by_model[job.res_model] |= job
        for res_model, jobs in by_model.items():
            errors = service._sync_records(res_model, set(jobs.mapped("res_id")))
            for job in jobs:
                if job.res_id in errors:
                    # a record that cannot become a document will not fix itself: no retry
                    job._mark_failed(errors[job.res_id], permanent=True)
                    failed |= job
        return failed

    def _process_describe_jobs(self):
        """Write descriptions queued by the batch action; proposals with findings go to the chatter."""
        service = self.env["semantic.search.service"]
        failed = self.browse()
        products = self.env["product.template"].sudo().browse(self.mapped("res_id")).exists()
        for job in self:
            product = products.filtered(lambda p, job=job: p.id == job.res_id)
            if not product:
                continue  # deleted meanwhile: nothing to describe
            author = self.env["res.users"].sudo().browse((job.payload or {}).get("requested_by")).exists()
            try:
                with self.env.cr.savepoint():
                    description = service.generate_description(product)
                    if description.source == "llm" and description.findings:
                        product._semantic_post_review(description, author=author or None)
                    else:
                        product._semantic_apply_description(description, author=author or None)
            except LLMError as exc:
                job._mark_failed(str(exc))
                failed |= job
            except SearchLibError as exc:
                job._mark_failed(str(exc), permanent=True)
                failed |= job
        return failed

    def _process_reindex_jobs(self):
        self.env["semantic.search.service"].reindex_products()

    def _process_webhook_jobs(self):
        """One HTTP attempt per delivery (models/semantic_webhook_delivery.py keeps the schedule)."""
        return self.env["semantic.webhook.delivery"]._process_outbox_jobs(self)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_retry(self):
        """Put failed or dead jobs back in the queue now, with a fresh attempt count."""
        jobs = self.filtered(lambda job: job.state in ("failed", "dead"))
        for job in jobs:
            newer = self.search_count(
                [
                    ("id", "!=", job.id),
                    ("job_type", "=", job.job_type),
                    ("res_model", "=", job.res_model),
                    ("res_id", "=", job.res_id),
                    ("state", "in", OPEN_STATES),
                ]
            )
            if newer:
                # an open job for the same record exists: it does the work, this one is superseded
                job.write({"state": "done", "last_error": self.env._("Superseded by a newer job.")})
            else:
                job.write(
                    {"state": "pending", "attempts": 0, "next_attempt_at": fields.Datetime.now(), "last_error": False}
                )
        if jobs:
            self._trigger_processing()
        return True

    @api.model
    def action_reindex_catalogue(self):
        """Queue a full rebuild of the product index (the live index keeps serving meanwhile)."""
        self._enqueue_reindex()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Semantic search"),
                "message": self.env._("The catalogue will be reindexed in the background."),
                "type": "success",
                "sticky": False,
            },
        }

    @api.autovacuum
    def _gc_done_jobs(self):
        """Done rows are history: keep a week of it."""
        self.env.cr.execute(
            """
            DELETE FROM semantic_outbox
             WHERE state = 'done' AND write_date < (now() at time zone 'UTC') - interval '7 days'
            """
        )
