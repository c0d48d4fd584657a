# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class Website(models.Model):
    _inherit = "website"

    def _semantic_shop_ranks(self, search):
        """Whether the index ranks the shop's products for ``search`` on this website (the shop then
        lists them best match first unless the customer picks a sort)."""
        self.ensure_one()
        return bool(search) and self.env["product.template"]._semantic_shop_ids(self.id, search) is not None

    def _search_find_fuzzy_term(self, search_details, search, limit=1000, word_list=None):
        """Keep the customer's words when the hybrid index answers every model searched.

        The index corrects typos itself, with the whole catalogue and a dictionary; Odoo's
        rewrite picks the closest product word, which turns valid words into other products.
        """
        Product = self.env["product.template"]
        if (
            word_list is None
            and search_details
            and all("semantic_website_id" in detail for detail in search_details)
            and all(
                Product._semantic_shop_ids(detail["semantic_website_id"], search) is not None
                for detail in search_details
            )
        ):
            return search
        return super()._search_find_fuzzy_term(search_details, search, limit=limit, word_list=word_list)
