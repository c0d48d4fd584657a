# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the last sync job did to each record's document, written by jobs only.

Jobs never write the records users edit (``product_template``): a save would
otherwise collide with a job and fail with a serialization error. The record's
own ``semantic_index_state`` is a non-stored field computed from this table and
from the jobs still waiting for it (see ``semantic.search.service``).
"""

from odoo import api, fields, models
from odoo.tools import SQL

ERROR_MAX_CHARS = 2000


class SemanticIndexState(models.Model):
    _name = "semantic.index.state"
    _description = "Semantic Search Index State"
    _log_access = False  # one row per record, upserted in SQL by jobs

    res_model = fields.Char(string="Model", required=True, readonly=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model", required=True, readonly=True)
    state = fields.Selection(
        selection=[("indexed", "Indexed"), ("excluded", "Not indexed"), ("error", "Error")],
        required=True,
        readonly=True,
    )
    synced_at = fields.Datetime(string="Last Sync", readonly=True)
    indexed_at = fields.Datetime(string="Last Indexed", readonly=True)
    error = fields.Text(readonly=True)

    _sql_constraints = [
        ("record_uniq", "unique (res_model, res_id)", "A record has one index state."),
    ]

    @api.model
    def _record(self, res_model, res_ids, state, error=None):
        """Upsert the state of ``res_ids`` (sorted: concurrent jobs lock rows in the same order)."""
        res_ids = sorted({int(res_id) for res_id in res_ids if res_id})
        if not res_ids:
            return
        self.flush_model()
        error = (error or "")[:ERROR_MAX_CHARS] or None
        indexed_at = SQL("(now() at time zone 'UTC')") if state == "indexed" else SQL("NULL")
        rows = SQL(", ").join(
            SQL("(%s, %s, %s, (now() at time zone 'UTC'), %s, %s)", res_model, res_id, state, indexed_at, error)
            for res_id in res_ids
        )
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO semantic_index_state (res_model, res_id, state, synced_at, indexed_at, error)
                VALUES %s
                ON CONFLICT (res_model, res_id) DO UPDATE
                   SET state = EXCLUDED.state,
                       synced_at = EXCLUDED.synced_at,
                       indexed_at = COALESCE(EXCLUDED.indexed_at, semantic_index_state.indexed_at),
                       error = EXCLUDED.error
                """,
                rows,
            )
        )
        self.invalidate_model()

    @api.model
    def _read_states(self, res_model, res_ids):
        """``{res_id: (state, synced_at, indexed_at, error)}`` of the records that were synced once."""
        if not res_ids:
            return {}
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT res_id, state, synced_at, indexed_at, error FROM semantic_index_state "
                "WHERE res_model = %s AND res_id IN %s",
                res_model,
                tuple(res_ids),
            )
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    @api.model
    def _forget(self, res_model, res_ids):
        """Drop the rows of deleted records."""
        if res_ids:
            self.env.cr.execute(
                SQL(
                    "DELETE FROM semantic_index_state WHERE res_model = %s AND res_id IN %s",
                    res_model,
                    tuple(res_ids),
                )
            )
            self.invalidate_model()
