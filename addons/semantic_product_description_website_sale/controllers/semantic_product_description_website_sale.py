# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.addons.website_sale.controllers.main import WebsiteSale


class WebsiteSaleSemantic(WebsiteSale):
    def _get_search_options(self, *args, **post):
        """Tell the product search whether the customer picked a sort (else it keeps rank order)."""
        options = super()._get_search_options(*args, **post)
        options["semantic_sorted_by_customer"] = bool(post.get("order"))
        return options
