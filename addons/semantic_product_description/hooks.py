# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).


def post_init_hook(env):
    """Index the products that existed before the module: one chunked rebuild, run by queue_job."""
    env["semantic.reindex.run"]._request("product")
