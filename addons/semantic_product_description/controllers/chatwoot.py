# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""``POST /api/v1/chatwoot/webhook[/<token>]``: Chatwoot deliveries in, a reply job queued, 200 at once.

Steps: enabled? (else 404) → body cap → authenticate (the signature when a webhook secret is set,
else the per-database URL token, constant time) → parse with the configured account id → rate limit
per conversation → dedupe (unique keys, ``INSERT ... ON CONFLICT DO NOTHING``) → record and decide
(:meth:`semantic.chatwoot.conversation._cw_receive`). The reply itself runs on ``root.semantic.reply``.
Errors are the API's JSON shape (:mod:`.api`) with the library's codes; nothing is stored then.
"""

import hmac
import logging
import re
import time

import psycopg2.errors

from odoo import SUPERUSER_ID, http
from odoo.http import request

from odoo_search_lib import ChatwootPayloadError, ChatwootVerificationError
from odoo_search_lib.chatwoot import (
    MAX_BODY_BYTES,
    IgnoredEvent,
    dedupe_keys,
    delivery_id,
    parse_event,
    verify_signature,
)

from ..rate_limit import limiter
from .api import ApiError, JsonApi, error_response, json_response, method_not_allowed

WEBHOOK_PATH = "/api/v1/chatwoot/webhook"


class RedactWebhookToken(logging.Filter):
    """Hide the URL token of the webhook in the request lines werkzeug logs (``POST /api/v1/chatwoot/webhook/
    <token>``): whoever reads the server log must not be able to post deliveries."""

    _token = re.compile(re.escape(WEBHOOK_PATH) + r"/[^\s?#/\"]+")

    def _redact(self, value):
        return self._token.sub(WEBHOOK_PATH + "/***", value) if isinstance(value, str) else value

    def filter(self, record):
        record.msg = self._redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._redact(arg) for arg in record.args)
        return True


logging.getLogger("werkzeug").addFilter(RedactWebhookToken())


class ChatwootWebhook(http.Controller, JsonApi):
    @http.route(
        [WEBHOOK_PATH, WEBHOOK_PATH + "/<string:token>"],
        type="http",
        auth="none",
        methods=None,
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def chatwoot_webhook(self, token=None, **_params):
        if request.httprequest.method != "POST":
            return method_not_allowed(["POST"])
        received_at = time.time()
        try:
            # auth="none": no user. The deliveries are the system's, recorded in its main company.
            request.update_env(user=SUPERUSER_ID)
            conversations = request.env["semantic.chatwoot.conversation"]
            if not conversations._cw_enabled():
                raise ApiError(404, "not_found", "The Chatwoot webhook is not enabled on this database.")
            raw = self._read_capped_body()
            self._authenticate_delivery(conversations, raw, token)
            account = conversations._cw_number("account_id", int, 1)
            try:
                event = parse_event(raw, account_id=account)
            except ChatwootVerificationError as exc:  # wrong_account
                raise ApiError(403, exc.code, str(exc)) from None
            except ChatwootPayloadError as exc:
                raise ApiError(413 if exc.code == "too_large" else 400, exc.code, str(exc)) from None
            if isinstance(event, IgnoredEvent):
                return json_response({"ok": True, "ignored": event.event})
            try:
                keys = dedupe_keys(event, delivery_id(request.httprequest.headers))
            except ChatwootVerificationError as exc:  # bad_delivery_id
                raise ApiError(400, exc.code, str(exc)) from None
            self._check_conversation_rate(conversations, event.conversation.id)
            if not request.env["semantic.chatwoot.dedupe"]._claim(keys):
                return json_response({"ok": True, "duplicate": True})
            _conversation, decision = conversations._cw_receive(event, received_at)
            return json_response({"ok": True, "queued": decision.reply, "reason": decision.reason})
        except psycopg2.errors.SerializationFailure:
            # A concurrent delivery claimed the same key or conversation: Odoo replays the request
            # (service.model.retrying), which then finds the duplicate or the newer state.
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes the JSON error contract
            request.env.cr.rollback()  # nothing of a refused delivery is stored
            return error_response(exc)

    def _read_capped_body(self):
        httprequest = request.httprequest
        if (httprequest.content_length or 0) > MAX_BODY_BYTES:
            raise ApiError(413, "too_large", f"The delivery exceeds {MAX_BODY_BYTES} bytes.")
        raw = httprequest.get_data()  # cached: a replayed request (serialization retry) reads it again
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError(413, "too_large", f"The delivery exceeds {MAX_BODY_BYTES} bytes.")
        return raw

    def _authenticate_delivery(self, conversations, raw, token):
        """The signature when a webhook secret is configured; otherwise the URL token (constant time).

        Failed attempts count per client address, as the API keys' do (429 once spent).
        """
        self._check_auth_failures()
        secret = conversations._cw_param("webhook_secret")
        if secret:
            try:
                verify_signature(secret, raw, request.httprequest.headers)
            except ChatwootVerificationError as exc:
                self._count_auth_failure()
                raise ApiError(401, exc.code, str(exc)) from None
            return
        expected = conversations._cw_url_token()
        if not token:
            self._count_auth_failure()
            raise ApiError(401, "missing_token", "Use the webhook URL with its token, or configure a webhook secret.")
        if not hmac.compare_digest(token.encode(), expected.encode()):
            self._count_auth_failure()
            raise ApiError(401, "bad_token", "The webhook URL token is wrong (it may have been rotated).")

    def _check_conversation_rate(self, conversations, conversation_id):
        rate = conversations._cw_number("rate_limit", int, 0)
        key = f"{request.db}:chatwoot:{conversation_id}"
        if not limiter.allow(key, rate):
            retry_after = str(limiter.retry_after(key, rate))
            raise ApiError(
                429, "rate_limited", "Too many deliveries for this conversation.", [("Retry-After", retry_after)]
            )
