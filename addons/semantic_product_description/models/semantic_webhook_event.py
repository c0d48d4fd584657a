# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class SemanticWebhookEvent(models.Model):
    """An event type endpoints subscribe to (seeded with the four product events)."""

    _name = "semantic.webhook.event"
    _description = "Webhook Event Type"
    _order = "sequence, id"
    _rec_names_search = ["name", "code"]

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True,
        readonly=True,
        help="The event's type in payloads and in the X-Odoo-Event header, e.g. product.updated.",
    )
    description = fields.Text(translate=True)
    sequence = fields.Integer(default=10)

    _sql_constraints = [("code_uniq", "unique(code)", "An event type code must be unique.")]

    def write(self, vals):
        result = super().write(vals)
        if "code" in vals:
            self.env.registry.clear_cache()  # the cached subscriptions are keyed by code
        return result
