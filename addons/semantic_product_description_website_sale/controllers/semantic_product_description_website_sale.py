# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.http import request
from odoo.osv import expression

from odoo.addons.website_sale.controllers.main import WebsiteSale


class WebsiteSaleSemantic(WebsiteSale):
    def _get_search_options(self, *args, **post):
        """Tell the product search whether the customer picked a sort (else it keeps rank order)."""
        options = super()._get_search_options(*args, **post)
        options["semantic_sorted_by_customer"] = bool(post.get("order"))
        return options

    def _get_shop_domain(self, search, category, attrib_values, search_in_description=True):
        """The shop's price range is read from this domain: with the index answering, it covers the
        products the index found ("calçado para correr" finds running shoes whose names lack those
        words), not Odoo's word match on names and descriptions."""
        if search:
            ranked = request.env["product.template"]._semantic_shop_ids(request.website.id, search)
            if ranked is not None:
                domain = super()._get_shop_domain(None, category, attrib_values, search_in_description)
                return expression.AND([domain, [("id", "in", ranked)]])
        return super()._get_shop_domain(search, category, attrib_values, search_in_description)
