# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""JSON API: ``POST /api/v1/products/search``, ``GET /api/v1/health`` and ``GET /api/v1/health/ready``.

Authentication, rate limits, body parsing and the error contract are shared
with the other semantic routes: see :mod:`.api`.
"""

import dataclasses
import logging
import re
import time

from odoo import SUPERUSER_ID, http
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools import consteq

from odoo_search_lib import Filters, SearchLibError
from odoo_search_lib.search import METHODS, parse_filters, parse_min_confidence
from odoo_search_lib.store.base import category_key

from .api import (
    API_KEY_SCOPE,
    API_KEY_SCOPE_PUBLISHED,
    ApiError,
    JsonApi,
    error_for,
    error_response,
    json_response,
    method_not_allowed,
)

_logger = logging.getLogger(__name__)

_BODY_FIELDS = frozenset({"query", "limit", "method", "filters", "variants", "min_confidence"})
_FILTER_FIELDS = frozenset({"category", "price_min", "price_max", "in_stock", "website_id", "attributes"})
#: Category levels are written "A / B" (Odoo's and the webhooks' way); "A > B" is read too.
_CATEGORY_SEPARATOR_RE = re.compile(r"\s+/\s+|>")
#: Characters of the short description in a result.
SHORT_DESCRIPTION_CHARS = 300
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class SemanticProductSearchController(http.Controller, JsonApi):
    @http.route(
        "/api/v1/products/search",
        type="http",
        auth="none",
        methods=_ALL_METHODS,
        csrf=False,
        save_session=False,
    )
    def products_search(self, **_params):
        if request.httprequest.method != "POST":
            return method_not_allowed(["POST"])
        started = time.perf_counter()
        try:
            uid, scope = self._authenticate_key((API_KEY_SCOPE, API_KEY_SCOPE_PUBLISHED))
            self._check_rate_limit(f"{request.db}:{uid}")
            body = self._read_json_body()
            query, limit, method, filters, variants = self._parse_search_body(body)
            # a number from 0 to 1, or absent; anything else is a 400 "invalid_min_confidence"
            min_confidence = parse_min_confidence(body.get("min_confidence"))
            if scope == API_KEY_SCOPE_PUBLISHED:
                filters = dataclasses.replace(filters or Filters(), published=True)
            results, corrected_query, understood = self._search(query, limit, method, filters, variants, min_confidence)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a JSON error
            return error_response(exc)
        return json_response(
            {
                "results": results,
                "corrected_query": corrected_query,
                "understood": understood,
                "took_ms": round((time.perf_counter() - started) * 1000, 2),
            }
        )

    @http.route("/api/v1/health", type="http", auth="none", methods=_ALL_METHODS, csrf=False, save_session=False)
    def health(self, **_params):
        """Liveness: the server answers and routes this database. Opens no store, reads no setting."""
        if request.httprequest.method not in ("GET", "HEAD"):
            return method_not_allowed(["GET", "HEAD"])
        return json_response({"status": "ok"})

    @http.route("/api/v1/health/ready", type="http", auth="none", methods=_ALL_METHODS, csrf=False, save_session=False)
    def health_ready(self, **_params):
        """Readiness: whether the store opens and the index is built, for holders of the health token."""
        if request.httprequest.method not in ("GET", "HEAD"):
            return method_not_allowed(["GET", "HEAD"])
        service = request.env(user=SUPERUSER_ID)["semantic.search.service"]
        try:
            self._check_health_token(service._get_param("health_token"))
        except ApiError as exc:
            return error_response(exc)
        try:
            status = service.index_status()
        except (SearchLibError, UserError) as exc:
            _status, code, _message = error_for(exc)
            _logger.warning("Health check: search store not usable: %s", exc)
            return json_response({"status": "degraded", "index_built": False, "error": {"code": code}}, status=503)
        return json_response({"status": "ok", "index_built": status["built"], "documents": status["documents"]})

    # ------------------------------------------------------------------
    # Steps
    # ------------------------------------------------------------------

    def _check_health_token(self, token):
        """The request's ``Authorization: Bearer`` must equal this database's health token."""
        if not token:
            raise ApiError(404, "not_enabled", "Readiness details are off: set a health token in the settings.")
        self._check_auth_failures()
        sent = self._bearer_token() or ""
        # bytes: consteq (hmac.compare_digest) refuses non-ASCII str, which a hostile header may carry
        if not consteq(sent.encode(), token.encode()):
            self._count_auth_failure()
            raise ApiError(401, "invalid_token", 'Send the health token as "Authorization: Bearer <token>".')

    def _parse_search_body(self, body):
        query, limit = self._query_and_limit(body, _BODY_FIELDS, default_limit=10)
        method = body.get("method", "hybrid")
        if method not in METHODS:
            raise ApiError(400, "invalid_method", f'"method" must be one of {", ".join(METHODS)}.')
        raw_filters = body.get("filters") or {}
        if not isinstance(raw_filters, dict):
            raise ApiError(400, "invalid_filter", '"filters" must be an object.')
        unknown = sorted(set(raw_filters) - _FILTER_FIELDS)
        if unknown:
            raise ApiError(
                400,
                "unknown_filter",
                f"Unknown filter {unknown[0]!r} (known: {', '.join(sorted(_FILTER_FIELDS))}).",
            )
        in_stock = raw_filters.get("in_stock")
        if in_stock is not None and not isinstance(in_stock, bool):
            raise ApiError(400, "invalid_filter", '"in_stock" must be true or false (a JSON boolean).')
        variants = body.get("variants", False)
        if not isinstance(variants, bool):
            raise ApiError(400, "invalid_variants", '"variants" must be true or false (a JSON boolean).')
        if isinstance(raw_filters.get("category"), str):
            raw_filters = dict(raw_filters, category=self._category_filter(raw_filters["category"]))
        filters = parse_filters(raw_filters)  # QueryError -> 400 with the field named
        return query, limit, method, filters, variants

    def _category_filter(self, value):
        """The index's path for ``value``: a path ("A / B" or "A > B") or one category's own name.

        A single name that is not a top-level category is looked up among the categories: the
        one category of that name gives its full path; several give a 400 listing their paths
        (the index matches one path per filter).
        """
        parts = [part.strip() for part in _CATEGORY_SEPARATOR_RE.split(value) if part.strip()]
        path = " > ".join(parts)
        if len(parts) != 1:
            return path or value
        wanted = category_key(parts[0])
        service = request.env["semantic.search.service"]
        # every category is read: names are compared folded (case, accents, spacing), as the index does
        categories = request.env["product.category"].search([])
        paths = sorted(
            {service._category_path(category) for category in categories if category_key(category.name or "") == wanted}
        )
        if len(paths) > 1:
            shown = ", ".join(path.replace(" > ", " / ") for path in paths[:10])
            raise ApiError(400, "ambiguous_category", f"Several categories are named {parts[0]!r}: {shown}.")
        return paths[0] if paths else path

    def _search(self, query, limit, method, filters, variants=False, min_confidence=None):
        """The result items the key's user may read, the query with misspellings corrected (or None),
        and the constraints read from the query as JSON objects."""
        env = request.env
        service = env["semantic.search.service"]
        max_limit = service.sudo()._get_param_int("search_max_limit", minimum=1)
        limit = max(1, min(limit, max_limit))
        companies = env.companies  # every company of the key's user
        # ask for a little more than needed: hits the user may not read are dropped below
        result = service.search_products(
            query,
            limit=min(max_limit, limit * 2),
            method=method,
            filters=filters,
            company_ids=companies.ids,
            min_confidence=min_confidence,
        )
        ids = [service._parse_product_doc_id(hit.id) for hit in result.hits]
        readable = env["product.template"].search([("id", "in", [res_id for res_id in ids if res_id])])
        by_id = {record.id: record for record in readable}
        published_only = filters is not None and filters.published
        in_stock = filters.in_stock if filters is not None else None
        if in_stock is None and any(u.kind == "in_stock" and u.applied == "filter" for u in result.understood):
            in_stock = True  # "em estoque" read from the query: the live level decides too
        results = []
        for hit, res_id in zip(result.hits, ids, strict=True):
            record = by_id.get(res_id)
            if record is None:
                continue  # archived, deleted, another company's, or hidden by a record rule
            if published_only and not service._product_published(record.sudo()):
                continue  # unpublished since indexing: the live flag decides
            if filters is not None and filters.website_id and not self._sold_on(record.sudo(), filters.website_id):
                continue  # moved to another website since indexing
            item = self._result_item(service, record, hit, variants)
            if in_stock is not None and item["in_stock"] != in_stock:
                continue  # stock moved since indexing: the live level decides
            results.append(item)
            if len(results) >= limit:
                break
        return results, result.corrected_query, [item.as_dict() for item in result.understood]

    @staticmethod
    def _sold_on(record, website_id):
        """Whether ``record`` is sold on the website ``website_id`` (restricted to none, or to it)."""
        return "website_id" not in record._fields or record.website_id.id in (False, website_id)

    def _result_item(self, service, record, hit, variants=False):
        # price, currency and stock are read live from Odoo, never from the index
        live = record.sudo()
        published = "is_published" in live._fields and live.is_published
        base_url = live.get_base_url()
        website_url = live.website_url if published and "website_url" in live._fields else None
        image_url = (
            f"{base_url}/web/image/product.template/{live.id}/image_1024" if published and live.image_1920 else None
        )
        item = {
            "id": record.id,
            "name": record.name,
            "default_code": live.default_code or None,
            "description": self._short_description(service, live),
            "score": round(hit.score, 6),
            "scores": {signal: round(score, 6) for signal, score in hit.scores.items()},
            "confidence": round(hit.confidence, 4),
            "list_price": record.list_price,
            "currency": live.currency_id.name or None,
            "in_stock": service._product_in_stock(live),
            "category": live.categ_id.complete_name or None,
            "website_url": f"{base_url}{website_url}" if website_url else None,
            "image_url": image_url,
        }
        if variants:
            item["variants"] = [
                {
                    "id": variant.id,
                    "name": variant.display_name,
                    "default_code": variant.default_code or None,
                    "attributes": {
                        value.attribute_id.name: value.name for value in variant.product_template_attribute_value_ids
                    },
                    "price": variant.lst_price,
                    "in_stock": service._product_in_stock(variant),
                    "qty_available": variant.qty_available if "qty_available" in variant._fields else None,
                }
                for variant in live.product_variant_ids
            ]
        return item

    def _short_description(self, service, template):
        """The first ``SHORT_DESCRIPTION_CHARS`` characters of the description, cut at a word."""
        text = " ".join(service._product_description_text(template).split())
        if len(text) <= SHORT_DESCRIPTION_CHARS:
            return text or None
        return text[:SHORT_DESCRIPTION_CHARS].rsplit(" ", 1)[0] + "…"
