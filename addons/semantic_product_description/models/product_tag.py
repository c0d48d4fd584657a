# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class ProductTag(models.Model):
    _inherit = "product.tag"

    def write(self, vals):
        result = super().write(vals)
        if "name" in vals:
            self.sudo().with_context(active_test=False).product_template_ids._semantic_enqueue()
        return result

    def unlink(self):
        # the sync job reads the products' tags when it runs: after the unlink, without this one
        self.sudo().with_context(active_test=False).product_template_ids._semantic_enqueue()
        return super().unlink()
