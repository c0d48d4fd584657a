# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class ProductAttributeValue(models.Model):
    _inherit = "product.attribute.value"

    def write(self, vals):
        result = super().write(vals)
        if "name" in vals:
            lines = self.sudo().with_context(active_test=False).pav_attribute_line_ids
            lines.product_tmpl_id._semantic_enqueue()
        return result
