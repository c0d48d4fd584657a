# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A receiver of signed product events (Standard Webhooks 1.0).

The signing secret is generated here and shown once (after creation and after
each rotation); it is stored in a field only *Settings* administrators may read
and is never logged. Deliveries are ``semantic.webhook.delivery`` records.
"""

from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo_search_lib import WebhookVerificationError
from odoo_search_lib.webhooks import EVENT_PRODUCT_UPDATED, build_payload, generate_secret, sign

#: Fields whose change alters who receives which event (the subscription cache).
_ROUTING_FIELDS = {"active", "company_id", "event_ids"}


class SemanticWebhookEndpoint(models.Model):
    _name = "semantic.webhook.endpoint"
    _description = "Webhook Endpoint"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "name, id"

    def _default_event_ids(self):
        return self.env["semantic.webhook.event"].search([])

    name = fields.Char(required=True, tracking=True)
    url = fields.Char(
        string="URL",
        required=True,
        tracking=True,
        help="Where events are POSTed. https is required unless the host is in the webhook allow-list; "
        "internal, loopback, link-local and cloud metadata addresses are refused.",
    )
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        tracking=True,
        help="The endpoint receives events about this company's products and about shared products.",
    )
    event_ids = fields.Many2many(
        "semantic.webhook.event",
        relation="semantic_webhook_endpoint_event_rel",
        column1="endpoint_id",
        column2="event_id",
        string="Events",
        default=_default_event_ids,
        help="Event types sent to this endpoint.",
    )
    secret = fields.Char(
        string="Signing Secret",
        copy=False,
        readonly=True,
        groups="base.group_system",
        help="whsec_ secret the receiver verifies signatures with. Shown once, after creation and rotation.",
    )
    secret_revealed = fields.Boolean(
        copy=False,
        readonly=True,
        help="The current secret was shown once already; rotate it to get a new one.",
    )
    delivery_ids = fields.One2many("semantic.webhook.delivery", "endpoint_id", string="Deliveries")
    delivery_count = fields.Integer(compute="_compute_delivery_counts")
    failing_delivery_count = fields.Integer(
        compute="_compute_delivery_counts", help="Deliveries waiting for a retry, or dead."
    )

    def _compute_delivery_counts(self):
        Delivery = self.env["semantic.webhook.delivery"]
        totals = dict(Delivery._read_group([("endpoint_id", "in", self.ids)], ["endpoint_id"], ["__count"]))
        failing = dict(
            Delivery._read_group(
                [("endpoint_id", "in", self.ids), ("state", "in", ("failed", "dead"))], ["endpoint_id"], ["__count"]
            )
        )
        for endpoint in self:
            endpoint.delivery_count = totals.get(endpoint, 0)
            endpoint.failing_delivery_count = failing.get(endpoint, 0)

    @api.constrains("secret")
    def _check_secret(self):
        for endpoint in self.sudo():
            try:
                sign(endpoint.secret or "", "msg_check", 0, b"")
            except WebhookVerificationError as exc:
                raise ValidationError(self.env._("Invalid signing secret: %(reason)s", reason=str(exc))) from None

    @api.constrains("url", "active")
    def _check_url(self):
        service = self.env["semantic.search.service"]
        for endpoint in self.filtered("active"):
            service._check_webhook_url(endpoint.url)

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [dict(vals, secret=vals.get("secret") or generate_secret()) for vals in vals_list]
        endpoints = super().create(vals_list)
        self.env.registry.clear_cache()
        return endpoints

    def write(self, vals):
        result = super().write(vals)
        if _ROUTING_FIELDS & set(vals):
            self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        if "name" not in (default or {}):
            for endpoint, vals in zip(self, vals_list, strict=True):
                vals["name"] = self.env._("%s (copy)", endpoint.name)
        return vals_list

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_show_secret(self):
        """Show the current secret, once."""
        self.ensure_one()
        self._check_secret_access()
        if self.secret_revealed:
            raise UserError(
                self.env._(
                    "The signing secret was shown already. Rotate it to get a new one (the current one stops working)."
                )
            )
        self.secret_revealed = True
        return self._secret_wizard_action()

    def action_rotate_secret(self):
        """Replace the secret at once (the old one stops verifying) and show the new one, once."""
        self.ensure_one()
        self._check_secret_access()
        self.sudo().secret = generate_secret()
        self.secret_revealed = True
        self.message_post(
            body=self.env._("Signing secret rotated by %(user)s.", user=self.env.user.name),
            subtype_xmlid="mail.mt_note",
        )
        return self._secret_wizard_action()

    def _check_secret_access(self):
        """Secrets are for Settings administrators only, like the field itself."""
        self.check_access("write")
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(self.env._("Only Settings administrators may see or rotate webhook secrets."))

    def _secret_wizard_action(self):
        """The secret travels in the dialog's defaults only: the wizard is never saved."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Webhook signing secret"),
            "res_model": "semantic.webhook.secret.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_endpoint_id": self.id, "default_secret": self.sudo().secret},
        }

    def action_send_test_event(self):
        """Queue a ``product.updated``-shaped event marked ``"test": true``."""
        self.ensure_one()
        self.check_access("write")
        if not self.active:
            raise UserError(self.env._("Unarchive the endpoint before sending it a test event."))
        data = self.env["semantic.search.service"]._test_webhook_data(self.company_id)
        body = build_payload(EVENT_PRODUCT_UPDATED, data).decode("utf-8")
        self.env["semantic.webhook.delivery"]._insert(
            [
                {
                    "endpoint_id": self.id,
                    "company_id": self.company_id.id,
                    "event_type": EVENT_PRODUCT_UPDATED,
                    "payload": body,
                    "is_test": True,
                }
            ]
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Webhooks"),
                "message": self.env._("A test event was queued for %(endpoint)s.", endpoint=self.name),
                "type": "success",
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_view_deliveries(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "semantic_product_description.semantic_webhook_delivery_action"
        )
        action["domain"] = [("endpoint_id", "=", self.id)]
        action["context"] = {"default_endpoint_id": self.id}
        return action

    # ------------------------------------------------------------------
    # Business
    # ------------------------------------------------------------------

    @api.model
    @tools.ormcache("event_type")
    def _subscriptions(self, event_type):
        """``((endpoint_id, company_id), ...)`` of the active endpoints subscribed to ``event_type``.

        Cached per process (cleared when an endpoint or an event code changes), so a product
        write costs no query at all when nobody listens.
        """
        self.env.cr.execute(
            """
            SELECT endpoint.id, endpoint.company_id
              FROM semantic_webhook_endpoint endpoint
              JOIN semantic_webhook_endpoint_event_rel rel ON rel.endpoint_id = endpoint.id
              JOIN semantic_webhook_event event ON event.id = rel.event_id
             WHERE endpoint.active AND event.code = %s
             ORDER BY endpoint.id
            """,
            [event_type],
        )
        return tuple(self.env.cr.fetchall())

    def _disable_gone(self, delivery):
        """The receiver answered 410 Gone: stop sending and tell the administrators."""
        self.ensure_one()
        if not self.active:
            return
        self.active = False
        body = Markup("<p>%s</p>") % self.env._(
            "The receiver answered 410 Gone to delivery %(webhook_id)s (%(event)s): the endpoint was "
            "archived and its pending deliveries are disabled. Check the receiver, then unarchive the "
            "endpoint and redeliver what it missed.",
            webhook_id=delivery.webhook_id,
            event=delivery.event_type,
        )
        self.message_post(body=body, subtype_xmlid="mail.mt_note")
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Webhook endpoint disabled (410 Gone)"),
            note=body,
            user_id=self._responsible_user().id,
        )

    def _responsible_user(self):
        """Whoever created the endpoint if they still manage webhooks, else the administrator."""
        self.ensure_one()
        user = self.create_uid
        if (
            user.active
            and not user.share
            and user.has_group("semantic_product_description.semantic_product_description_group_manager")
        ):
            return user
        return self.env.ref("base.user_admin", raise_if_not_found=False) or self.env.user
