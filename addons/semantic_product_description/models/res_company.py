# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class ResCompany(models.Model):
    _inherit = "res.company"

    def write(self, vals):
        result = super().write(vals)
        # a product's currency is its company's: the indexed price and the webhooks carry it
        if "currency_id" in vals:
            self.env["product.template"]._semantic_enqueue_matching(
                [("company_id", "in", [False, *self.ids])], self.env._("a currency change")
            )
        return result
