# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class SemanticWebhookSecretWizard(models.TransientModel):
    """Shows a webhook endpoint's new signing secret once.

    The endpoint's actions open this dialog with the secret as a default value; the
    dialog has no save button, so the secret is never written to this model's table.
    """

    _name = "semantic.webhook.secret.wizard"
    _description = "Webhook Signing Secret"

    endpoint_id = fields.Many2one("semantic.webhook.endpoint", readonly=True)
    secret = fields.Char(string="Signing Secret", readonly=True)
