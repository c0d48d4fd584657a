# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Turn the outbox's open rows into queue_job jobs, keep what the old columns knew, drop the outbox."""

import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)


def _table_exists(cr, table):
    cr.execute("SELECT 1 FROM information_schema.tables WHERE table_name = %s", [table])
    return bool(cr.fetchone())


def _columns(cr, table):
    cr.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table])
    return {row[0] for row in cr.fetchall()}


def migrate_outbox(env):
    """Queue jobs for the outbox's pending and failed rows; returns ``{job_type: count}``."""
    cr = env.cr
    counts = {}
    if _table_exists(cr, "semantic_outbox"):
        cr.execute(
            """
            SELECT job_type, res_id, payload FROM semantic_outbox
             WHERE state IN ('pending', 'failed') ORDER BY id
            """
        )
        rows = cr.fetchall()
        Product = env["product.template"].sudo()
        sync_ids = {res_id for job_type, res_id, _payload in rows if job_type in ("index", "delete")}
        if sync_ids:
            Product.browse(sorted(sync_ids))._semantic_enqueue()
        for job_type, res_id, payload in rows:
            if job_type == "describe" and Product.browse(res_id).exists():
                requested_by = (payload or {}).get("requested_by") or SUPERUSER_ID
                Product.browse(res_id).with_delay()._semantic_job_describe(requested_by)
            elif job_type == "reindex":
                env["semantic.reindex.run"]._request("product")
            counts[job_type] = counts.get(job_type, 0) + 1
        cr.execute("DROP TABLE semantic_outbox CASCADE")
    delivery_columns = _columns(cr, "semantic_webhook_delivery")
    if "legacy_state" in delivery_columns:
        cr.execute(
            """
            UPDATE semantic_webhook_delivery
               SET result = legacy_state
             WHERE legacy_state IN ('delivered', 'disabled')
            """
        )
        cr.execute("SELECT id FROM semantic_webhook_delivery WHERE legacy_state IN ('pending', 'failed') ORDER BY id")
        Delivery = env["semantic.webhook.delivery"].sudo()
        waiting = Delivery.browse([row[0] for row in cr.fetchall()])
        for delivery in waiting:
            delivery.job_id = delivery.with_delay(max_retries=8)._job_deliver().db_record()
        counts["webhook"] = len(waiting)
        cr.execute("ALTER TABLE semantic_webhook_delivery DROP COLUMN legacy_state")
    if "legacy_outbox_job_id" in delivery_columns:
        cr.execute("ALTER TABLE semantic_webhook_delivery DROP COLUMN legacy_outbox_job_id")
    # the product's index state now lives in semantic_index_state, written by jobs only
    product_columns = _columns(cr, "product_template")
    if "semantic_index_state" in product_columns:
        cr.execute(
            """
            INSERT INTO semantic_index_state (res_model, res_id, state, synced_at, indexed_at, error)
            SELECT 'product.template', id, semantic_index_state, semantic_indexed_at, semantic_indexed_at,
                   semantic_index_error
              FROM product_template
             WHERE semantic_index_state IN ('indexed', 'excluded', 'error')
            ON CONFLICT (res_model, res_id) DO NOTHING
            """
        )
        cr.execute(
            """
            ALTER TABLE product_template DROP COLUMN semantic_index_state,
                                         DROP COLUMN IF EXISTS semantic_indexed_at,
                                         DROP COLUMN IF EXISTS semantic_index_error
            """
        )
    # 18.0.2 names collections with a digest of the embedding model (two models never share
    # one), so the index is rebuilt under its new name; until it is published searches answer
    # "index not built" (a few minutes at the embedder's speed)
    env["semantic.reindex.run"]._request("product")
    env.invalidate_all()
    return counts


def migrate(cr, version):
    if not version:
        return
    counts = migrate_outbox(api.Environment(cr, SUPERUSER_ID, {}))
    _logger.info("semantic_product_description: outbox rows turned into jobs: %s", counts)
