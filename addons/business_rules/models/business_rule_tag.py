# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class BusinessRuleTag(models.Model):
    _name = "business.rule.tag"
    _description = "Business Rule Tag"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    color = fields.Integer()

    _sql_constraints = [("name_uniq", "unique (name)", "A tag with this name exists already.")]

    def write(self, vals):
        result = super().write(vals)
        if "name" in vals:
            # tags are part of the indexed text of their rules
            self.env["business.rule"].search([("tag_ids", "in", self.ids)])._business_rule_enqueue()
        return result
