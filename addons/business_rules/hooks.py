# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).


def post_init_hook(env):
    """Index the rules that exist at install time (a sync job: the store may not be reachable yet)."""
    rules = env["business.rule"].search([])
    if rules:
        rules._business_rule_enqueue()
