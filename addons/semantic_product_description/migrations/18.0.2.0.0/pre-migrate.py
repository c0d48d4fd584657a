# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.2.0.0 moves the work from the home-made outbox to queue_job.

Before the new schema loads, the columns whose meaning changes are set aside:
a delivery's ``job_id`` pointed at ``semantic_outbox`` and now points at
``queue_job``; its stored ``state`` becomes a field computed from its job.
post-migrate.py turns what was still to do into jobs.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        SELECT column_name FROM information_schema.columns
         WHERE table_name = 'semantic_webhook_delivery' AND column_name IN ('job_id', 'state')
        """
    )
    columns = {row[0] for row in cr.fetchall()}
    if "job_id" in columns:
        cr.execute("ALTER TABLE semantic_webhook_delivery RENAME COLUMN job_id TO legacy_outbox_job_id")
    if "state" in columns:
        cr.execute("ALTER TABLE semantic_webhook_delivery RENAME COLUMN state TO legacy_state")
