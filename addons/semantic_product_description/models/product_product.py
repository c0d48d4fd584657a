# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from odoo_search_lib.webhooks import EVENT_PRODUCT_UPDATED


class ProductProduct(models.Model):
    _inherit = "product.product"

    def write(self, vals):
        result = super().write(vals)
        # a variant's reference and activity feed its template's document
        if {"default_code", "active"} & set(vals):
            self.product_tmpl_id._semantic_enqueue()
        if "default_code" in vals:
            self.product_tmpl_id._semantic_webhook_enqueue(EVENT_PRODUCT_UPDATED)
        return result
