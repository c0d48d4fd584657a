# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What every JSON route of the semantic addons shares: API-key authentication, rate limits,
body parsing and the one error contract.

Authentication is an Odoo API key (``res.users.apikeys``, Preferences >
Account Security) sent as ``Authorization: Bearer <key>``. The routes are
``auth="none"`` and check the key themselves with the same call Odoo's
``auth="bearer"`` uses, because ``auth="bearer"``:

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

    def _authenticate(self):
        """The uid of the API key in ``Authorization: Bearer``; switches the request to that user."""
        header = request.httprequest.headers.get("Authorization", "")
        match = _BEARER_RE.match(header)
        if not match:
            raise ApiError(401, "missing_api_key", 'Send an Odoo API key as "Authorization: Bearer <key>".')
        address = request.httprequest.remote_addr or "unknown"
        failures_key = f"{request.db}:auth-failures:{address}"
        uid = request.env["res.users.apikeys"]._check_credentials(scope="rpc", key=match.group(1))
        if not uid:
            # Only failures are limited: a guesser behind the same address (a proxy) must not lock
            # out valid keys. Behind a reverse proxy, set proxy_mode so the address is the client's.
            if not limiter.allow(failures_key, AUTH_FAILURES_PER_MINUTE):
                retry_after = str(limiter.retry_after(failures_key, AUTH_FAILURES_PER_MINUTE))
                raise ApiError(429, "rate_limited", "Too many failed authentications.", [("Retry-After", retry_after)])
            raise ApiError(401, "invalid_api_key", "The API key is invalid, expired or revoked.")
        request.update_env(user=uid)
        # names are answered in the key user's language, not the anonymous request's
        request.update_context(lang=request.env.user.lang or "en_US")
        return uid

    def _check_rate_limit(self, key):
        rate = request.env["semantic.search.service"].sudo()._get_param_int("api_rate_limit")
        if not limiter.allow(key, rate):
            retry_after = str(limiter.retry_after(key, rate))
            raise ApiError(429, "rate_limited", "Too many requests for this API key.", [("Retry-After", retry_after)])

    def _read_json_body(self):
        httprequest = request.httprequest
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
