# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A catalogue rebuild: chunks that each commit in their own job, then one publish.

``_job_start`` creates the build collection (on the embedded store, a copy of
the live one, less the documents of records it does not read: then chunks write
only the products whose content changed) and queues one ``_job_build_chunk``
per slice of records plus ``_job_publish``, which runs when every chunk is
done. Chunks are idempotent upserts, so a chunk interrupted by a crash or a
restart is simply run again (``semantic.search.service._cron_requeue_interrupted``),
and the rebuild resumes where it was. Searches keep using the live collection
until the publish switches the alias. Edits made meanwhile are written to the
live collection *and* the build (``semantic.search.service._sync_documents``),
and the publish re-reads what changed since the rebuild started, so no edit is lost.
"""

import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, split_every

from odoo.addons.queue_job.delay import group

_logger = logging.getLogger(__name__)

#: Records per chunk job: about 2 s of embedding at 500 products/s, far below any time limit.
CHUNK_SIZE = 1000
OPEN_STATES = ("queued", "running")
#: How far before the start of a rebuild its publish looks for edits to re-read.
CATCH_UP_MARGIN_MINUTES = 2


class SemanticReindexRun(models.Model):
    _name = "semantic.reindex.run"
    _description = "Semantic Search Rebuild"
    _order = "id desc"

    kind = fields.Selection(selection=[("product", "Products")], required=True, default="product", readonly=True)
    state = fields.Selection(
        selection=[
            ("queued", "Queued"),
            ("running", "Building"),
            ("published", "Published"),
            ("cancelled", "Cancelled"),
        ],
        default="queued",
        required=True,
        index=True,
        readonly=True,
    )
    collection = fields.Char(string="Build Collection", readonly=True)
    graph_uuid = fields.Char(readonly=True, index="btree_not_null")
    total = fields.Integer(string="Records", readonly=True)
    chunk_count = fields.Integer(string="Chunks", readonly=True)
    chunks_done = fields.Integer(compute="_compute_progress")
    progress = fields.Float(compute="_compute_progress", help="Share of the chunks written, in percent.")
    requested_by_id = fields.Many2one("res.users", readonly=True)
    started_at = fields.Datetime(readonly=True)
    published_at = fields.Datetime(readonly=True)
    caught_up = fields.Integer(
        string="Edits Caught Up", readonly=True, help="Records edited during the build, re-read before publishing."
    )

    @api.depends("graph_uuid", "chunk_count", "state")
    def _compute_progress(self):
        Job = self.env["queue.job"].sudo()
        for run in self:
            done = 0
            if run.graph_uuid:
                done = Job.search_count(
                    [
                        ("graph_uuid", "=", run.graph_uuid),
                        ("method_name", "=", "_job_build_chunk"),
                        ("state", "=", "done"),
                    ]
                )
            run.chunks_done = done
            if run.state == "published":
                run.progress = 100.0
            else:
                run.progress = 100.0 * done / run.chunk_count if run.chunk_count else 0.0

    @api.depends("kind", "state", "create_date")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for run in self:
            run.display_name = self.env._("Rebuild of %(kind)s #%(id)s", kind=kinds.get(run.kind, run.kind), id=run.id)

    # ------------------------------------------------------------------
    # Request
    # ------------------------------------------------------------------

    @api.model
    def _request(self, kind="product"):
        """The open rebuild of ``kind``, or a new one queued in this transaction."""
        run = self.sudo().search([("kind", "=", kind), ("state", "in", OPEN_STATES)], limit=1)
        if run:
            return run
        run = self.sudo().create({"kind": kind, "requested_by_id": self.env.uid})
        run.with_delay(description=self.env._("Semantic search: start a rebuild"))._job_start()
        return run

    @api.model
    def _running_builds(self, kind):
        """Collections being built for ``kind``: sync jobs write edits there too."""
        return self.sudo().search([("kind", "=", kind), ("state", "=", "running")]).mapped("collection")

    # ------------------------------------------------------------------
    # Jobs (channel root.semantic.reindex)
    # ------------------------------------------------------------------

    def _job_start(self):
        """Create the build collection and queue its chunks, then the publish."""
        self.ensure_one()
        if self.state != "queued":
            return f"nothing to do: the rebuild is {self.state}"
        service = self.env["semantic.search.service"]
        ids = service._rebuild_ids(self.kind)
        with service._retry_on_outage():
            index = service._get_index(self.kind)
            # a copy of the live collection where the store can copy it: chunks then write only what changed
            collection = index.begin_build(reuse=True)
            # The copy may hold documents of records this rebuild does not read (deleted since, or never
            # synced out): dropped now, against the ids the chunks read. Records created after these ids
            # were read reach the build through their sync job or the publish's catch-up.
            pruned = index.prune_build(collection, [service._product_doc_id(res_id) for res_id in ids])
        chunks = list(split_every(CHUNK_SIZE, ids, list))
        self.write(
            {
                "state": "running",
                "collection": collection,
                "total": len(ids),
                "chunk_count": len(chunks),
                "started_at": fields.Datetime.now(),
            }
        )
        publish = self.delayable(description=self.env._("Semantic search: publish the rebuild"))._job_publish()
        if chunks:
            delayables = [
                self.delayable(
                    description=self.env._("Semantic search: rebuild chunk %(n)s/%(total)s", n=n, total=len(chunks))
                )._job_build_chunk(chunk)
                for n, chunk in enumerate(chunks, 1)
            ]
            group(*delayables).on_done(publish).delay()
            self.graph_uuid = delayables[0]._generated_job.graph_uuid
        else:
            publish.delay()
        _logger.info(
            "Semantic search rebuild %s: %s records in %s chunks (%s stale documents dropped from the copy)",
            self.id,
            len(ids),
            len(chunks),
            pruned,
        )
        return f"{len(ids)} records in {len(chunks)} chunks into {collection} ({pruned} stale documents dropped)"

    def _job_build_chunk(self, ids):
        """Write one chunk of records into the build (idempotent: safe to run again)."""
        self.ensure_one()
        if self.state != "running":
            return f"skipped: the rebuild is {self.state}"
        service = self.env["semantic.search.service"]
        counts = service._write_build(self.kind, self.collection, ids)
        return "indexed {indexed}, excluded {excluded}, errors {errors}".format(**counts)

    def _job_publish(self):
        """Re-read what was edited during the build, switch the alias, drop the old collection."""
        self.ensure_one()
        if self.state != "running":
            return f"skipped: the rebuild is {self.state}"
        service = self.env["semantic.search.service"]
        # write_date is the writer's transaction start: a margin catches saves that were in flight
        edited = service._edited_since(self.kind, self.started_at - timedelta(minutes=CATCH_UP_MARGIN_MINUTES))
        if edited:
            service._write_build(self.kind, self.collection, edited)
        with service._retry_on_outage():
            index = service._get_index(self.kind)
            index.publish(self.collection)
            dropped = index.gc()
        self.write({"state": "published", "published_at": fields.Datetime.now(), "caught_up": len(edited)})
        _logger.info(
            "Semantic search rebuild %s published (%s edits caught up, %s abandoned builds dropped)",
            self.id,
            len(edited),
            len(dropped),
        )
        return f"published {self.collection}"

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    @api.model
    def action_reindex_catalogue(self):
        """Menu action: queue a rebuild of the product index (or show the one already running)."""
        if not self.env.user.has_group("semantic_product_description.semantic_product_description_group_manager"):
            raise AccessError(self.env._("Only Semantic Search administrators may rebuild the index."))
        run = self._request("product")
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": run.id,
            "views": [(False, "form")],
            "target": "current",
        }

    def action_cancel(self):
        """Stop open rebuilds: their waiting jobs are cancelled and their builds dropped."""
        service = self.env["semantic.search.service"]
        for run in self.filtered(lambda run: run.state in OPEN_STATES):
            if run.graph_uuid:
                jobs = (
                    self.env["queue.job"]
                    .sudo()
                    .search([("graph_uuid", "=", run.graph_uuid), ("state", "not in", ("done", "cancelled", "failed"))])
                )
                jobs.button_cancelled()
            run.state = "cancelled"
            if run.collection:
                with service._user_errors():
                    service._get_index(run.kind).store.drop_collection(run.collection)
        return True

    @api.autovacuum
    def _gc_old_runs(self):
        """Finished rebuilds are history: keep 30 days of it."""
        self.env.cr.execute(
            SQL(
                "DELETE FROM semantic_reindex_run WHERE state IN ('published', 'cancelled') "
                "AND write_date < (now() at time zone 'UTC') - interval '30 days'"
            )
        )
