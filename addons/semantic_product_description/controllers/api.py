# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What every JSON route of the semantic addons shares: API-key authentication, rate limits,
body parsing and the one error contract.

Authentication is an Odoo API key (``res.users.apikeys``) of a dedicated
scope, sent as ``Authorization: Bearer <key>``; keys come from the addon's
*Generate API key* wizard, never from *Preferences > Account Security* (those
are global ``rpc`` keys with the user's full XML-RPC power, and are refused).
The key's user must also belong to a group (Semantic Search / User by default).
The routes are ``auth="none"`` and check the key themselves, because
``auth="bearer"``:

- answers a missing or wrong key with werkzeug's HTML 401/403 pages, not the
  API's JSON error shape, and
- also accepts a browser session cookie, which a machine endpoint must not.

Every failure goes through :func:`error_for` (one map from exceptions,
including the library's tree, to status codes) and comes back as
``{"error": {"code": ..., "message": ...}}``. Other addons' controllers derive
from :class:`JsonApi`.
"""

import json
import logging
import re

from werkzeug.http import parse_options_header

from odoo.exceptions import AccessDenied, AccessError, UserError
from odoo.http import request

from odoo_search_lib import (
    ConfigError,
    EmbeddingError,
    IndexNotBuiltError,
    InvalidInputError,
    SearchLibError,
    StoreError,
    StoreLockedError,
    StoreUnavailableError,
)

from ..rate_limit import limiter

_logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
MAX_QUERY_CHARS = 1000
#: Failed authentications allowed per client address and minute (slows key guessing).
AUTH_FAILURES_PER_MINUTE = 30
#: API-key scopes of the search API: the whole readable catalogue, or published products only.
API_KEY_SCOPE = "semantic_search"
API_KEY_SCOPE_PUBLISHED = "semantic_search_published"
#: The group a key's user needs, by default.
API_GROUP = "semantic_product_description.semantic_product_description_group_user"
_BEARER_RE = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)


class ApiError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or []


def error_for(exc):
    """``(status, code, message)`` for any exception: the one place the error contract lives.

    Messages of 5xx answers are generic: details (store paths, hosts) go to the log only.
    """
    if isinstance(exc, ApiError):
        return exc.status, exc.code, exc.message
    if isinstance(exc, InvalidInputError):  # QueryError, DocumentError
        return 400, exc.code, str(exc)
    if isinstance(exc, IndexNotBuiltError):
        return 503, "index_not_built", "The search index is not built yet for this database."
    if isinstance(exc, StoreLockedError):
        return (
            503,
            "store_locked",
            ("The embedded search store serves one Odoo process only; configure a Qdrant URL for this server."),
        )
    if isinstance(exc, StoreUnavailableError):
        return 503, "store_unavailable", "The search store cannot be reached."
    if isinstance(exc, StoreError):
        return 503, "store_error", "The search store failed."
    if isinstance(exc, EmbeddingError):
        return 503, "embedding_unavailable", "The embedding model failed."
    if isinstance(exc, ConfigError):
        return 503, "not_configured", "Semantic search is not configured correctly on this server."
    if isinstance(exc, SearchLibError):
        return 503, exc.code, "Semantic search failed."
    if isinstance(exc, AccessDenied):
        return 401, "unauthorized", "Authentication failed."
    if isinstance(exc, AccessError):
        return 403, "forbidden", "This API key's user may not read these records."
    if isinstance(exc, UserError):
        return 400, "bad_request", str(exc)
    return 500, "internal_error", "Internal error."


def method_not_allowed(allowed):
    """The JSON 405 of a route that only serves ``allowed`` methods (routes accept every method
    and call this themselves: Odoo answers a route's ``methods`` mismatch with an HTML page)."""
    return error_response(
        ApiError(
            405,
            "method_not_allowed",
            f"Use {' or '.join(allowed)} on this route.",
            [("Allow", ", ".join(allowed))],
        )
    )


def json_response(data, status=200, headers=None):
    headers = [("Cache-Control", "no-store"), *(headers or [])]
    return request.make_json_response(data, status=status, headers=headers)


def error_response(exc):
    status, code, message = error_for(exc)
    if status == 500:
        _logger.error("Semantic API: unexpected error", exc_info=exc)
    elif status >= 500:
        _logger.warning("Semantic API: %s", exc)
    headers = exc.headers if isinstance(exc, ApiError) else []
    return json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)


class JsonApi:
    """The steps of a JSON route: authenticate, rate-limit, read the body."""

    def _query_and_limit(self, body, known_fields, default_limit):
        """Refuse unknown fields, then ``(query, limit)`` of a search body (limit not yet capped)."""
        unknown = sorted(set(body) - set(known_fields))
        if unknown:
            raise ApiError(
                400, "unknown_field", f"Unknown field {unknown[0]!r} (known: {', '.join(sorted(known_fields))})."
            )
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ApiError(400, "invalid_query", '"query" must be a non-empty string.')
        if len(query) > MAX_QUERY_CHARS:
            raise ApiError(400, "query_too_long", f'"query" is longer than {MAX_QUERY_CHARS} characters.')
        limit = body.get("limit", default_limit)
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise ApiError(400, "invalid_limit", '"limit" must be an integer.')
        return query, limit

    def _authenticate(self, scope=API_KEY_SCOPE, group=API_GROUP):
        """The uid of the API key in ``Authorization: Bearer``; switches the request to that user.

        ``scope`` is the key scope this route accepts (a string, or a tuple of accepted scopes);
        ``group`` the XML id of a group the key's user must have (``None``: no group needed).
        """
        return self._authenticate_key(scope, group)[0]

    def _authenticate_key(self, scope=API_KEY_SCOPE, group=API_GROUP):
        """``(uid, scope of the key)``: :meth:`_authenticate` for routes whose answer depends on the scope."""
        key = self._bearer_token()
        if not key:
            raise ApiError(401, "missing_api_key", 'Send an Odoo API key as "Authorization: Bearer <key>".')
        self._check_auth_failures()
        scopes = (scope,) if isinstance(scope, str) else tuple(scope)
        found = request.env["res.users.apikeys"]._semantic_check_scoped_key(scopes, key)
        if not found:
            self._count_auth_failure()
            raise ApiError(401, "invalid_api_key", "The API key is invalid, expired, revoked or not for this API.")
        uid, key_scope = found
        request.update_env(user=uid)
        if group and not request.env.user.has_group(group):
            raise ApiError(403, "forbidden", "This API key's user lacks the group this API needs.")
        # names are answered in the key user's language, not the anonymous request's
        request.update_context(lang=request.env.user.lang or "en_US")
        return uid, key_scope

    def _bearer_token(self):
        """The token of ``Authorization: Bearer <token>``, or ``None``."""
        match = _BEARER_RE.match(request.httprequest.headers.get("Authorization", ""))
        return match.group(1) if match else None

    def _auth_failures_key(self):
        # Behind a reverse proxy, set proxy_mode so the address is the client's.
        return f"{request.db}:auth-failures:{request.httprequest.remote_addr or 'unknown'}"

    def _check_auth_failures(self):
        """429 once this address spent its failed authentications: called *before* a credential is
        verified, so that a correct guess is not confirmed (nor any key verified) until the bucket refills."""
        key = self._auth_failures_key()
        if not limiter.available(key, AUTH_FAILURES_PER_MINUTE):
            retry_after = str(limiter.retry_after(key, AUTH_FAILURES_PER_MINUTE))
            raise ApiError(429, "rate_limited", "Too many failed authentications.", [("Retry-After", retry_after)])

    def _count_auth_failure(self):
        limiter.allow(self._auth_failures_key(), AUTH_FAILURES_PER_MINUTE)

    def _check_rate_limit(self, key):
        rate = request.env["semantic.search.service"].sudo()._get_param_int("api_rate_limit")
        if not limiter.allow(key, rate):
            retry_after = str(limiter.retry_after(key, rate))
            raise ApiError(429, "rate_limited", "Too many requests for this API key.", [("Retry-After", retry_after)])

    def _read_json_body(self):
        httprequest = request.httprequest
        mimetype, _options = parse_options_header(httprequest.headers.get("Content-Type", ""))
        if mimetype != "application/json" and not (mimetype.startswith("application/") and mimetype.endswith("+json")):
            raise ApiError(415, "unsupported_media_type", 'Send the body as JSON ("Content-Type: application/json").')
        if (httprequest.content_length or 0) > MAX_BODY_BYTES:
            raise ApiError(413, "body_too_large", f"The request body exceeds {MAX_BODY_BYTES} bytes.")
        raw = httprequest.get_data(cache=False)
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError(413, "body_too_large", f"The request body exceeds {MAX_BODY_BYTES} bytes.")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "bad_json", "The request body is not valid UTF-8 JSON.") from None
        if not isinstance(body, dict):
            raise ApiError(400, "bad_request", "The request body must be a JSON object.")
        return body
