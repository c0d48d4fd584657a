# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models

from odoo_search_lib.webhooks import EVENT_PRODUCT_UPDATED


class ProductProduct(models.Model):
    _inherit = "product.product"

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        """The variants of the templates the index ranks, in their templates' rank order
        (as ``product.template._search`` does for templates)."""
        Template = self.env["product.template"]
        domain, ranking = Template._semantic_rewrite_domain(domain, "product_tmpl_id")
        if ranking is None or order != self._order:
            return super()._search(domain, offset=offset, limit=limit, order=order)
        return Template._semantic_rank_order(
            super()._search(domain, offset=offset, limit=limit), ranking, "product_tmpl_id"
        )

    def write(self, vals):
        result = super().write(vals)
        # a variant's reference and activity feed its template's document
        if {"default_code", "active"} & set(vals):
            self.product_tmpl_id._semantic_enqueue()
        if "default_code" in vals:
            self.product_tmpl_id._semantic_webhook_enqueue(EVENT_PRODUCT_UPDATED)
        return result
