# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, models
from odoo.osv import expression

from odoo.addons.semantic_product_description.models.semantic_search_service import CANDIDATE_DEPTH

from odoo_search_lib import Filters, SearchLibError

_logger = logging.getLogger(__name__)


class ProductTemplate(models.Model):
    _inherit = "product.template"

    @api.model
    def _search_get_detail(self, website, order, options):
        """Mark the shop's product search as one the hybrid index answers (see ``_search_fetch``)."""
        detail = super()._search_get_detail(website, order, options)
        detail["semantic_website_id"] = website.id
        detail["semantic_rank_order"] = not options.get("semantic_sorted_by_customer")
        return detail

    @api.model
    def _semantic_shop_ids(self, website_id, search):
        """Template ids the index ranks for ``search`` on the website ``website_id``, best first,
        or ``None`` (logged) when the index cannot answer.

        Kept on the HTTP request: one shop page asks the index once, though both its product
        search and its price range (``_get_shop_domain``) need the ranking.
        """
        # Odoo shows unpublished products to its own users only (website.sale_product_domain)
        published = None if self.env.user._is_internal() else True
        memo = self._semantic_request_memo("semantic_shop_rankings")
        key = (website_id, published, search)
        if key not in memo:
            memo[key] = self._semantic_shop_ask(website_id, published, search)
        return memo[key]

    @api.model
    def _semantic_shop_ask(self, website_id, published, search):
        filters = Filters(published=published, website_id=website_id)
        # The shop's domain (category, attributes, price) filters the candidates further: ask for
        # more than a plain list shows, or a category page shows only what is in the site-wide top.
        service = self.env["semantic.search.service"]
        limit = max(service._get_param_int("search_max_limit", minimum=1), CANDIDATE_DEPTH)
        try:
            return self._semantic_ranked_ids(search, filters=filters, limit=limit)
        except SearchLibError as exc:
            _logger.warning("Semantic search cannot answer the shop, Odoo's own search does: %s", exc)
            return None

    @api.model
    def _search_fetch(self, search_detail, search, limit, order):
        """The shop's products for ``search``: the index's candidates within the shop's own domain.

        The domain (website, published, company, category, attributes, price) still applies; the
        order is the index's rank unless the customer picked a sort, which then orders the same
        candidates.
        """
        ranked = None
        if search and "semantic_website_id" in search_detail:
            ranked = self._semantic_shop_ids(search_detail["semantic_website_id"], search)
        if ranked is None:
            return super()._search_fetch(search_detail, search, limit, order)
        model = self.sudo() if search_detail.get("requires_sudo") else self
        domain = expression.AND([*search_detail["base_domain"], [("id", "in", ranked)]])
        # at most CANDIDATE_DEPTH ids: one query for the page and the count
        if search_detail["semantic_rank_order"]:
            position = {res_id: rank for rank, res_id in enumerate(ranked)}
            found = model.search(domain).sorted(lambda record: position[record.id])
        else:
            found = model.search(domain, order=search_detail.get("order", order))
        return (found[:limit] if limit else found), len(found)
