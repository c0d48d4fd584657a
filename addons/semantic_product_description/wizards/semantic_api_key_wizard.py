# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.exceptions import AccessError, UserError

from ..controllers.api import API_GROUP, API_KEY_SCOPE, API_KEY_SCOPE_PUBLISHED


class SemanticApiKeyWizard(models.TransientModel):
    """Generates an API key of the search API's own scope (never a global ``rpc`` key)."""

    _name = "semantic.api.key.wizard"
    _description = "Generate a Semantic Search API Key"

    def _default_user_id(self):
        return self.env.user

    user_id = fields.Many2one(
        "res.users",
        required=True,
        default=_default_user_id,
        domain=lambda self: [("groups_id", "in", self.env.ref(API_GROUP).ids), ("share", "=", False)],
        help="The integration user the key authenticates as. Results are what this user may read.",
    )
    name = fields.Char(string="Description", required=True, help="What the key is for, e.g. the Chatwoot bot.")
    published_only = fields.Boolean(
        default=True,
        help="Searches with this key only return published products (for customer-facing callers).",
    )
    expiration_date = fields.Datetime(
        help="Required unless a Semantic Search Administrator generates it. "
        "Odoo limits keys of non-administrators to their groups' maximum duration."
    )
    state = fields.Selection([("draft", "New"), ("done", "Generated")], default="draft", required=True)
    # shown once, on this wizard's second screen (as Odoo's own key dialog keeps it in its transient record)
    key = fields.Char(readonly=True)

    def action_generate(self):
        self.ensure_one()
        user = self.user_id
        is_manager = self.env.user.has_group("semantic_product_description.semantic_product_description_group_manager")
        if user != self.env.user:
            if not is_manager:
                raise AccessError(self.env._("Only Semantic Search Administrators generate keys for other users."))
            if user._is_system() and not self.env.user._is_system():
                raise AccessError(self.env._("Only Settings administrators generate keys for administrators."))
        if not user.has_group(API_GROUP):
            raise UserError(self.env._("%s lacks the Semantic Search / User group the API requires.", user.name))
        keys = self.env["res.users.apikeys"].with_user(user)
        if is_manager:
            # an administrator chooses the key's duration; a user's own key keeps Odoo's limit
            keys = keys.sudo()
        scope = API_KEY_SCOPE_PUBLISHED if self.published_only else API_KEY_SCOPE
        key = keys._generate(scope, self.name, self.expiration_date)
        # this wizard shows it, with what it opens: Odoo's own key dialog would call it a password
        # with full access to the account, which a key of this scope is not
        self.write({"key": key, "state": "done"})
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "name": self.env._("Search API Key Ready"),
            "views": [(False, "form")],
            "target": "new",
        }
