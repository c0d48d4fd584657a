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
from odoo_search_lib.webhooks import build_payload, generate_secret, sign

#: Fields whose change alters who receives which event (the subscription cache).
_ROUTING_FIELDS = {"active", "company_id", "event_ids"}
#: Event type of "Send test event": never sent for a real change, so receivers can tell it apart.
EVENT_TEST = "product.test"


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
    paused = fields.Boolean(
        copy=False,
        tracking=True,
        help="A paused endpoint keeps queuing its events but sends nothing: its deliveries wait, "
        "without using up their retries, until the endpoint is resumed.",
    )
    health = fields.Selection(
        selection=[
            ("unknown", "No delivery yet"),
            ("ok", "Healthy"),
            ("failing", "Failing"),
            ("paused", "Paused"),
        ],
        compute="_compute_health",
        help="Healthy: the last attempt that settled succeeded. Failing: deliveries failed since the last success.",
    )
    last_success_at = fields.Datetime(
        string="Last Success", compute="_compute_health", help="When a delivery last succeeded."
    )
    last_failure_at = fields.Datetime(
        string="Last Failure", compute="_compute_health", help="When a delivery attempt last failed."
    )
    last_failure_message = fields.Text(string="Last Failure Reason", compute="_compute_health")
    consecutive_failures = fields.Integer(
        compute="_compute_health",
        help="Deliveries whose last attempt failed after the last successful delivery.",
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

    @api.depends("paused")
    def _compute_health(self):
        """From the deliveries and their jobs: a failed attempt is rolled back, so only its job knows
        it (a dead job's start, a postponed job's message: see ``ATTEMPT_MARK``)."""
        stats = {}
        if self.ids:
            self.env["semantic.webhook.delivery"].flush_model()
            self.env["queue.job"].flush_model()
            self.env.cr.execute(
                """
                WITH attempts AS (
                    SELECT delivery.endpoint_id,
                           CASE WHEN delivery.result = 'delivered' THEN delivery.delivered_at END AS success_at,
                           CASE WHEN delivery.result IS NULL
                                 AND (job.state IN ('failed', 'cancelled')
                                      OR (job.state NOT IN ('done', 'failed', 'cancelled') AND job.retry > 0))
                                THEN COALESCE(
                                    job.date_started,
                                    to_timestamp(substring(job.result from '\\(attempt at ([0-9: -]{19})\\)$'),
                                                 'YYYY-MM-DD HH24:MI:SS')::timestamp,
                                    job.date_created
                                ) END AS failure_at,
                           COALESCE(job.exc_message, job.result) AS reason
                      FROM semantic_webhook_delivery delivery
                      LEFT JOIN queue_job job ON job.id = delivery.job_id
                     WHERE delivery.endpoint_id IN %s
                ),
                last_success AS (
                    SELECT endpoint_id, MAX(success_at) AS success_at FROM attempts GROUP BY endpoint_id
                )
                SELECT attempts.endpoint_id,
                       last_success.success_at,
                       MAX(attempts.failure_at),
                       COUNT(attempts.failure_at) FILTER (
                           WHERE last_success.success_at IS NULL OR attempts.failure_at > last_success.success_at
                       ),
                       (ARRAY_AGG(attempts.reason ORDER BY attempts.failure_at DESC NULLS LAST))[1]
                  FROM attempts
                  JOIN last_success ON last_success.endpoint_id = attempts.endpoint_id
                 GROUP BY attempts.endpoint_id, last_success.success_at
                """,
                [tuple(self.ids)],
            )
            stats = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for endpoint in self:
            success_at, failure_at, failures, reason = stats.get(endpoint.id, (None, None, 0, None))
            endpoint.last_success_at = success_at
            endpoint.last_failure_at = failure_at
            endpoint.last_failure_message = reason if failure_at else False
            endpoint.consecutive_failures = failures
            if endpoint.paused:
                endpoint.health = "paused"
            elif failures:
                endpoint.health = "failing"
            elif success_at:
                endpoint.health = "ok"
            else:
                endpoint.health = "unknown"

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
        rotate = "url" in vals and not self.env.su and not self.env.user.has_group("base.group_system")
        if rotate:
            # whoever may point the endpoint elsewhere must not get events signed with a secret
            # the receiver trusts: a new URL gets a new secret, which only an administrator can show
            moved = self.filtered(lambda endpoint: endpoint.url != vals["url"])
        result = super().write(vals)
        if rotate and moved:
            moved.sudo().write({"secret": generate_secret(), "secret_revealed": False})
            for endpoint in moved:
                endpoint.message_post(
                    body=self.env._(
                        "URL changed by %(user)s: the signing secret was rotated. A Settings administrator "
                        "must show the new secret and give it to the receiver.",
                        user=self.env.user.name,
                    ),
                    subtype_xmlid="mail.mt_note",
                )
        if "paused" in vals and not vals["paused"]:
            self._release_paused_deliveries()
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

    def action_pause(self):
        """Stop sending; events keep queuing and wait for :meth:`action_resume`."""
        self.check_access("write")
        self.filtered(lambda endpoint: not endpoint.paused).write({"paused": True})

    def action_resume(self):
        """Send again: the waiting deliveries are due at once."""
        self.check_access("write")
        self.filtered("paused").write({"paused": False})

    def _release_paused_deliveries(self):
        """Make the not yet settled jobs of these endpoints due now (they were postponed while paused)."""
        jobs = (
            self.env["semantic.webhook.delivery"]
            .sudo()
            .search([("endpoint_id", "in", self.ids), ("result", "=", False), ("job_id.state", "=", "pending")])
            .job_id
        )
        jobs.write({"eta": False})

    def action_send_test_event(self):
        """Queue a ``product.test`` event: ``product.updated``'s shape, marked ``"test": true``."""
        self.ensure_one()
        self.check_access("write")
        if not self.active:
            raise UserError(self.env._("Unarchive the endpoint before sending it a test event."))
        data = self.env["semantic.search.service"]._test_webhook_data(self.company_id)
        body = build_payload(EVENT_TEST, data).decode("utf-8")
        self.env["semantic.webhook.delivery"]._insert(
            [
                {
                    "endpoint_id": self.id,
                    "company_id": self.company_id.id,
                    "event_type": EVENT_TEST,
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
