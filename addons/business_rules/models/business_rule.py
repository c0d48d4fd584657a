# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A rule of the shop, as customers ask about it: hours, delivery, payment, returns, promotions...

Rules are indexed as their own document kind (``rule``) in the same store and tenant as the
products, by sync jobs on the ``root.semantic.index`` lane. Validity is enforced when searching,
so nothing is reindexed when a promotion starts or ends.
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import split_every

from odoo.addons.queue_job.job import identity_exact

from odoo_search_lib.rules import RULE_TYPES

#: Rules per sync job.
SYNC_CHUNK_SIZE = 200
#: Fields whose change re-indexes the rule.
INDEXED_FIELDS = frozenset(
    {
        "name",
        "rule_type",
        "content",
        "question",
        "valid_from",
        "valid_to",
        "priority",
        "company_id",
        "active",
        "coupon_code",
        "product_ids",
        "categ_ids",
        "tag_ids",
    }
)


class BusinessRule(models.Model):
    _name = "business.rule"
    _description = "Business Rule"
    _inherit = ["mail.thread"]
    _order = "rule_type, priority desc, name, id"

    name = fields.Char(string="Title", required=True, translate=True, tracking=True)
    rule_type = fields.Selection(
        selection=[
            ("hours", "Opening hours"),
            ("delivery", "Delivery"),
            ("payment", "Payment"),
            ("returns", "Returns"),
            ("warranty", "Warranty"),
            ("pickup", "Pick-up"),
            ("promotion", "Promotion"),
            ("faq", "FAQ"),
            ("other", "Other"),
        ],
        string="Type",
        required=True,
        default="faq",
        tracking=True,
    )
    question = fields.Char(
        translate=True, help="For an FAQ: the question as customers ask it. It is searched with the answer."
    )
    content = fields.Html(
        string="Answer",
        translate=True,
        sanitize=True,
        help="What the assistant may tell customers. Formatting is kept for people; the search reads the text.",
    )
    valid_from = fields.Datetime(help="Empty: valid since always. In the user's time zone.")
    valid_to = fields.Datetime(help="Empty: valid until further notice. The rule is valid up to this moment.")
    validity_status = fields.Selection(
        selection=[("active", "Active now"), ("scheduled", "Scheduled"), ("expired", "Expired")],
        string="Status",
        compute="_compute_validity_status",
        search="_search_validity_status",
    )
    priority = fields.Integer(default=10, help="Among rules that answer a question equally well, higher wins.")
    company_id = fields.Many2one(
        "res.company", index=True, default=lambda self: self.env.company, help="Empty: every company."
    )
    active = fields.Boolean(default=True, tracking=True)
    coupon_code = fields.Char(tracking=True, help="For a promotion: the code customers type at checkout.")
    product_ids = fields.Many2many("product.template", string="Products", help="Products a promotion applies to.")
    categ_ids = fields.Many2many(
        "product.category", string="Product Categories", help="Categories a promotion applies to."
    )
    tag_ids = fields.Many2many("business.rule.tag", string="Tags")
    index_state = fields.Selection(
        selection=[("pending", "Pending"), ("indexed", "Indexed"), ("excluded", "Not indexed"), ("error", "Error")],
        string="Search Index",
        compute="_compute_index_state",
    )

    @api.depends("valid_from", "valid_to")
    def _compute_validity_status(self):
        now = fields.Datetime.now()
        for rule in self:
            if rule.valid_from and rule.valid_from > now:
                rule.validity_status = "scheduled"
            elif rule.valid_to and rule.valid_to < now:
                rule.validity_status = "expired"
            else:
                rule.validity_status = "active"

    def _search_validity_status(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            return NotImplemented
        values = {value} if operator in ("=", "!=") else set(value)
        now = fields.Datetime.now()
        domains = {
            "scheduled": [("valid_from", ">", now)],
            "expired": [("valid_to", "<", now)],
            "active": [
                "&",
                "|",
                ("valid_from", "=", False),
                ("valid_from", "<=", now),
                "|",
                ("valid_to", "=", False),
                ("valid_to", ">=", now),
            ],
        }
        parts = [domains[v] for v in values if v in domains]
        domain = ["|"] * (len(parts) - 1) + [term for part in parts for term in part] if parts else [("id", "=", 0)]
        return ["!", *domain] if operator in ("!=", "not in") else domain

    def _compute_index_state(self):
        service = self.env["semantic.search.service"]
        ids = [rule.id for rule in self if rule.id]
        states = self.env["semantic.index.state"].sudo()._read_states(self._name, ids)
        waiting, failed = service._pending_sync_ids(self._name, "_business_rule_job_sync") if ids else ((), {})
        for rule in self:
            state = states.get(rule.id, (False,))[0]
            if rule.id in failed:
                state = "error"
            if rule.id in waiting or not state:
                state = "pending"
            rule.index_state = state

    @api.constrains("valid_from", "valid_to")
    def _check_validity(self):
        for rule in self:
            if rule.valid_from and rule.valid_to and rule.valid_to < rule.valid_from:
                raise ValidationError(
                    self.env._(
                        "The rule %(rule)s ends before it starts: 'Valid to' must not be earlier than 'Valid from'.",
                        rule=rule.name,
                    )
                )

    @api.constrains("rule_type")
    def _check_rule_type(self):
        for rule in self:
            if rule.rule_type not in RULE_TYPES:
                raise ValidationError(self.env._("Unknown rule type %(type)s.", type=rule.rule_type))

    # ------------------------------------------------------------------
    # CRUD: every change reaches the index through a job
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        rules._business_rule_enqueue()
        return rules

    def write(self, vals):
        result = super().write(vals)
        if INDEXED_FIELDS & set(vals):
            self._business_rule_enqueue()
        return result

    def unlink(self):
        self._business_rule_enqueue()
        return super().unlink()

    def _business_rule_enqueue(self):
        """Queue sync jobs for these rules, in the current transaction (a person's edit goes first)."""
        if not self or self.env.context.get("semantic_search_no_enqueue"):
            return
        priority = self.env["semantic.search.service"]._sync_job_priority(len(self))
        for chunk in split_every(SYNC_CHUNK_SIZE, sorted(self.ids)):
            self.browse(chunk).sudo().with_delay(
                description=self.env._("Semantic search: sync %(count)s business rule(s)", count=len(chunk)),
                identity_key=identity_exact,
                priority=priority,
            )._business_rule_job_sync()

    def _business_rule_job_sync(self):
        """Job (channel root.semantic.index): make the index match these rules as they are now."""
        service = self.env["semantic.search.service"]
        with service._retry_on_outage():
            errors = service._sync_rules(self.ids)
        return f"synced {len(self.ids)} rule(s), {len(errors)} cannot be indexed"

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_sync_all(self):
        """Re-index every rule of the database now."""
        service = self.env["semantic.search.service"]
        with service._user_errors():
            counts = service.sync_all_rules()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Business rules"),
                "message": self.env._(
                    "%(indexed)s rules indexed, %(removed)s removed from the index.",
                    indexed=counts["indexed"],
                    removed=counts["removed"],
                ),
                "type": "success",
                "sticky": False,
            },
        }
