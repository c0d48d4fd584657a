# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class ProductCategory(models.Model):
    _inherit = "product.category"

    def write(self, vals):
        result = super().write(vals)
        # the category path is in every document of the category and of its children
        if {"name", "parent_id"} & set(vals):
            templates = (
                self.env["product.template"]
                .sudo()
                .with_context(active_test=False)
                .search([("categ_id", "child_of", self.ids)])
            )
            templates._semantic_enqueue()
        return result
