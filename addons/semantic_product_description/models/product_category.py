# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class ProductCategory(models.Model):
    _inherit = "product.category"

    def write(self, vals):
        result = super().write(vals)
        # the category path is in every document (and product.updated payload) of the category
        # and of its children: found and queued by a job, not in this transaction
        if {"name", "parent_id"} & set(vals):
            self.env["product.template"]._semantic_enqueue_matching(
                [("categ_id", "child_of", self.ids)], self.env._("a category change")
            )
        return result

    def update_field_translations(self, field_name, translations, source_lang=None):
        result = super().update_field_translations(field_name, translations, source_lang=source_lang)
        if field_name == "name":
            self.env["product.template"]._semantic_enqueue_matching(
                [("categ_id", "child_of", self.ids)], self.env._("a category change")
            )
        return result
