# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).


def post_init_hook(env):
    """Index the products that existed before the module: one reindex job for the outbox cron."""
    env["semantic.outbox"]._enqueue_reindex()
