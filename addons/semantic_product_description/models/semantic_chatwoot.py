# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Chatwoot conversations as Odoo records: the state the library's rules need, the log, the reply job.

The decisions (when to reply, pause, hand back; bursts; splitting) are the library's
(:mod:`odoo_search_lib.chatwoot`); the answer is the assistant's (:mod:`odoo_search_lib.assistant`).
This module stores their inputs and outputs and runs the reply on the ``root.semantic.reply`` lane.
"""

import datetime
import json
import logging
import math
import secrets
import time

import psycopg2.errors

from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.queue_job.exception import RetryableJobError

from odoo_search_lib import ChatwootAPIError, ConfigError, UnsafeURLError
from odoo_search_lib.assistant import Conversation, Message, SalesAssistant
from odoo_search_lib.chatwoot import (
    BurstMessage,
    ChatwootClient,
    ConversationState,
    MessageEvent,
    advance,
    plan_burst,
    should_reply,
    split_reply,
)

from .chatwoot_ports import OdooCatalog
from .semantic_search_service import PARAM_PREFIX

_logger = logging.getLogger(__name__)

CHATWOOT_PREFIX = PARAM_PREFIX + "chatwoot_"
#: Defaults of the ``semantic_product_description.chatwoot_*`` parameters.
CHATWOOT_DEFAULTS = {
    "enabled": "",
    "base_url": "",
    "account_id": "0",
    "api_token": "",
    "webhook_secret": "",
    "url_token": "",
    "assistant_mode": "offline",
    "burst_window": "3",
    "outside_hours": "answer",
    "hours_from": "0",
    "hours_to": "24",
    "outside_hours_message": "",
    "log_days": "90",
    "rate_limit": "60",
}
#: The assistant's channel names for Chatwoot's (the library's splitter uses Chatwoot's own).
ASSISTANT_CHANNELS = {
    "Channel::Whatsapp": "whatsapp",
    "Channel::Api": "whatsapp",
    "Channel::Telegram": "whatsapp",
    "Channel::Instagram": "instagram",
    "Channel::FacebookPage": "facebook",
    "Channel::WebWidget": "web",
    "Channel::TwilioSms": "sms",
}
#: Chatwoot API errors worth another attempt later (the rest are permanent: bad token, gone conversation).
RETRYABLE_API_CODES = ("rate_limited", "unavailable", "timeout", "connection_failed")
#: The longest wait before another attempt, whatever Retry-After asks (a customer is waiting).
MAX_RETRY_SECONDS = 300
#: Attempts of a short transaction of the reply job that met a concurrent delivery (serialization conflict).
OWN_TRANSACTION_ATTEMPTS = 5


def _error_code(error):
    """The machine-readable code of a failure (the library's errors carry one; others: their class)."""
    return getattr(error, "code", None) or type(error).__name__


_CONFLICTS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
)


class SemanticChatwootConversation(models.Model):
    _name = "semantic.chatwoot.conversation"
    _description = "Chatwoot Conversation"
    _order = "last_activity desc, id desc"
    _rec_name = "display_label"

    chatwoot_id = fields.Integer(string="Conversation", required=True, readonly=True, index=True)
    account_id = fields.Integer(required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, default=lambda self: self.env.company)
    display_label = fields.Char(compute="_compute_display_label")
    contact_name = fields.Char(readonly=True)
    channel = fields.Char(readonly=True)
    status = fields.Char(readonly=True, default="pending")
    paused = fields.Boolean(readonly=True)
    pause_reason = fields.Char(readonly=True)
    last_message_id = fields.Integer(readonly=True)
    history_before = fields.Integer(readonly=True, help="Messages up to this id are old history (set on resolve).")
    answered_through = fields.Integer(readonly=True, help="The newest customer message the bot answered.")
    last_activity = fields.Datetime(readonly=True, default=fields.Datetime.now, index=True)
    handoff_count = fields.Integer(readonly=True)
    message_ids = fields.One2many("semantic.chatwoot.message", "conversation_id", readonly=True)

    _sql_constraints = [
        ("chatwoot_conversation_unique", "UNIQUE(account_id, chatwoot_id)", "One record per Chatwoot conversation."),
    ]

    @api.depends("chatwoot_id", "contact_name")
    def _compute_display_label(self):
        for record in self:
            record.display_label = f"#{record.chatwoot_id} {record.contact_name or ''}".strip()

    # ------------------------------------------------------------------ configuration

    @api.model
    def _cw_param(self, key):
        value = self.env["ir.config_parameter"].sudo().get_param(CHATWOOT_PREFIX + key)
        return CHATWOOT_DEFAULTS[key] if value in (None, False, "") else value

    @api.model
    def _cw_number(self, key, kind=float, minimum=0):
        try:
            value = kind(self._cw_param(key))
        except ValueError:
            value = kind(CHATWOOT_DEFAULTS[key])
        return value if value >= minimum else kind(CHATWOOT_DEFAULTS[key])

    @api.model
    def _cw_enabled(self):
        return self._cw_param("enabled") in ("True", "1", "true")

    @api.model
    def _cw_url_token(self):
        """The per-database token of the webhook URL, created on first use."""
        params = self.env["ir.config_parameter"].sudo()
        token = params.get_param(CHATWOOT_PREFIX + "url_token")
        if not token:
            token = self._cw_rotate_url_token()
        return token

    @api.model
    def _cw_rotate_url_token(self):
        token = secrets.token_urlsafe(32)
        self.env["ir.config_parameter"].sudo().set_param(CHATWOOT_PREFIX + "url_token", token)
        return token

    @api.model
    def _cw_client(self):
        base_url, token = self._cw_param("base_url"), self._cw_param("api_token")
        account = self._cw_number("account_id", int, 1)
        if not base_url or not token or not account:
            raise ConfigError("Chatwoot base URL, account id and API access token must be set")
        allow = self.env["semantic.search.service"]._webhook_allowlist()
        return ChatwootClient(base_url, account, token, allow=allow)

    # ------------------------------------------------------------------ deliveries (the route)

    def _state(self):
        self.ensure_one()
        return ConversationState(
            paused=self.paused,
            pause_reason=self.pause_reason or "",
            status=self.status or "pending",
            last_message_id=self.last_message_id,
            history_before=self.history_before,
        )

    def _write_state(self, state):
        self.write(
            {
                "paused": state.paused,
                "pause_reason": state.pause_reason,
                "status": state.status,
                "last_message_id": state.last_message_id,
                "history_before": state.history_before,
                "last_activity": fields.Datetime.now(),
            }
        )

    @api.model
    def _cw_locked(self, event):
        """The conversation of ``event``, created if new and locked for this transaction (deliveries of
        one conversation are applied one after the other)."""
        account = event.account_id or self._cw_number("account_id", int, 1)
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO semantic_chatwoot_conversation
                       (chatwoot_id, account_id, company_id, status, paused, last_message_id, history_before,
                        answered_through, handoff_count, last_activity, create_date, write_date, create_uid, write_uid)
                VALUES (%s, %s, %s, 'pending', false, 0, 0, 0, 0, now() at time zone 'UTC',
                        now() at time zone 'UTC', now() at time zone 'UTC', %s, %s)
                ON CONFLICT (account_id, chatwoot_id) DO NOTHING
                """,
                event.conversation.id,
                account,
                self.env.company.id,
                self.env.uid,
                self.env.uid,
            )
        )
        self.env.cr.execute(
            SQL(
                "SELECT id FROM semantic_chatwoot_conversation WHERE account_id = %s AND chatwoot_id = %s FOR UPDATE",
                account,
                event.conversation.id,
            )
        )
        record = self.browse(self.env.cr.fetchone()[0])
        record.invalidate_recordset()
        return record

    @api.model
    def _cw_receive(self, event, received_at):
        """Apply one verified, new delivery: state, log, and at most one queued reply job.

        Returns ``(conversation, decision)``.
        """
        conversation = self._cw_locked(event)
        state = advance(conversation._state(), event)
        decision = should_reply(event, state)
        conversation._write_state(state)
        values = {"contact_name": event.conversation.contact_name, "channel": event.conversation.channel}
        conversation.write({key: value for key, value in values.items() if value})
        if isinstance(event, MessageEvent):
            # Chatwoot's transcription of a voice message is the customer's text; what nobody
            # transcribed is passed to the assistant as an attachment kind it cannot read
            transcript = " ".join(a.transcribed_text for a in event.attachments if a.transcribed_text)
            unread = [a.file_type or "file" for a in event.attachments if not a.transcribed_text]
            self.env["semantic.chatwoot.message"].create(
                {
                    "conversation_id": conversation.id,
                    "chatwoot_message_id": event.id,
                    "kind": conversation._message_kind(event),
                    "event": event.event,
                    "content": event.content or transcript,
                    "attachment_count": len(event.attachments),
                    "attachment_kinds": ",".join(unread)[:200],
                    "received_at": received_at,
                    "decision": decision.reason,
                    "awaiting_reply": decision.reply,
                }
            )
        else:
            self.env["semantic.chatwoot.message"].create(
                {
                    "conversation_id": conversation.id,
                    "kind": "event",
                    "event": event.event,
                    "content": event.status,
                    "received_at": received_at,
                    "decision": decision.reason,
                }
            )
        if decision.reply:
            conversation._enqueue_reply()
        return conversation, decision

    @api.model
    def _message_kind(self, event):
        if event.is_ours:
            return "bot"
        if event.private:
            return "note"
        if event.message_type == "incoming":
            return "customer"
        return "agent" if (event.sender and event.sender.type == "user") else "other"

    def _enqueue_reply(self):
        """One waiting reply job per conversation (queue_job's identity key finds the waiting one)."""
        self.ensure_one()
        window = self._cw_number("burst_window")
        eta = datetime.datetime.now() + datetime.timedelta(seconds=window) if window else None
        self.with_delay(
            identity_key=f"chatwoot-reply:{self.account_id}:{self.chatwoot_id}",
            eta=eta,
            description=f"Chatwoot reply to conversation {self.chatwoot_id}",
        )._job_reply()

    # ------------------------------------------------------------------ the reply job

    def _pending_messages(self):
        """Customer messages above the watermark that wait for an answer, oldest first (``awaiting_reply``
        is the claim: two jobs of one conversation never see each other's messages as waiting)."""
        self.ensure_one()
        return self.message_ids.filtered(
            lambda m: m.kind == "customer" and m.awaiting_reply and m.chatwoot_message_id > self.history_before
        ).sorted("chatwoot_message_id")

    def _newest_awaiting_id(self):
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                """SELECT COALESCE(MAX(chatwoot_message_id), 0) FROM semantic_chatwoot_message
                    WHERE conversation_id = %s AND kind = 'customer' AND awaiting_reply""",
                self.id,
            )
        )
        return self.env.cr.fetchone()[0]

    def _in_own_transaction(self, work):
        """``work(conversation)`` in a transaction of its own, committed when it returns.

        What the reply job must not lose when its own transaction fails after a part was posted (a
        serialization conflict with a delivery, a server stop: queue_job would run it again) is written
        this way. The conversation row is locked first, as deliveries lock it, so the two take turns;
        a conflict with a delivery committed meanwhile is retried in a fresh transaction.
        """
        self.ensure_one()
        for attempt in range(OWN_TRANSACTION_ATTEMPTS):
            try:
                with self.env.registry.cursor() as cr:
                    cr.execute(SQL("SELECT id FROM semantic_chatwoot_conversation WHERE id = %s FOR UPDATE", self.id))
                    env = self.env(cr=cr)  # held until the commit: a collected env's writes are never flushed
                    result = work(self.with_env(env))
                    env.flush_all()
                self.env.invalidate_all()
                return result
            except _CONFLICTS:
                if attempt + 1 == OWN_TRANSACTION_ATTEMPTS:
                    raise
                time.sleep(0.05 * 2**attempt)
        return None

    def _claim_burst(self, plan, pending, reply, parts):
        """Mark ``pending`` answered and log the reply as being sent, committed before the first part is
        posted. Returns the reply's log row, or why not to post (read fresh: a person took the
        conversation or handed it back meanwhile, a newer message came, another job answered). A job
        that runs again after posting finds nothing to answer, so nothing goes out twice; one that was
        killed half-way finds its row still ``sending`` (:meth:`_hand_over_interrupted`)."""

        def claim(conversation):
            if conversation.paused or conversation.status != "pending" or plan.last_id <= conversation.history_before:
                return "taken over before the reply"
            if plan.superseded_by(conversation._newest_awaiting_id()):
                # the newer message's delivery may have seen this job waiting and queued none
                conversation._enqueue_reply()
                return "superseded by a newer message"
            conversation.env.cr.execute(
                SQL(
                    """UPDATE semantic_chatwoot_message SET awaiting_reply = false
                        WHERE id IN %s AND awaiting_reply RETURNING id""",
                    tuple(pending.ids),
                )
            )
            if len(conversation.env.cr.fetchall()) < len(pending):
                conversation.env.cr.rollback()
                return "already answered"
            conversation.write({"answered_through": max(conversation.answered_through, plan.last_id)})
            return (
                conversation.env["semantic.chatwoot.message"]
                .create(
                    {
                        "conversation_id": conversation.id,
                        "kind": "reply",
                        "content": "\n\n".join(parts),
                        "reply_to_id": plan.last_id,
                        "answered_count": len(plan.message_ids),
                        "handoff": reply["handoff"],
                        "received_at": time.time(),
                        "decision": f"sending:{self.env.context.get('job_uuid') or ''}",
                    }
                )
                .id
            )

        return self._in_own_transaction(claim)

    def _release_burst(self, plan, pending, answered_through, log_id):
        """Undo :meth:`_claim_burst` when Chatwoot refused the first part and nothing reached it.
        ``False`` when the release could not be written (the burst then stays claimed)."""

        def release(conversation):
            conversation.env.cr.execute(
                SQL("UPDATE semantic_chatwoot_message SET awaiting_reply = true WHERE id IN %s", tuple(pending.ids))
            )
            conversation.env["semantic.chatwoot.message"].browse(log_id).unlink()
            if conversation.answered_through == plan.last_id:
                conversation.write({"answered_through": answered_through})

        try:
            self._in_own_transaction(release)
        except psycopg2.Error:
            _logger.exception("Chatwoot conversation %s: could not release the burst", self.chatwoot_id)
            return False
        return True

    def _assistant_conversation(self, plan):
        """History above the watermark, as the assistant's conversation (customer messages of the burst
        limited to those the plan kept)."""
        kept = set(plan.message_ids)
        # our own replies are logged as "reply" when posted; their echoes ("bot") would count twice
        roles = {"customer": "customer", "reply": "assistant", "agent": "agent"}
        messages = []
        log = self.message_ids.sorted("id")
        # an edit (message_updated) is logged as a row of its own: its text replaces the original's
        edited = {m.chatwoot_message_id: m.content for m in log if m.event == "message_updated" and m.content}
        for message in log:
            if message.kind not in roles or (message.chatwoot_message_id or message.reply_to_id) <= self.history_before:
                continue
            if message.kind != "reply" and message.event != "message_created":
                continue
            if message.kind == "customer" and message.awaiting_reply and message.chatwoot_message_id not in kept:
                continue
            content = (
                edited.get(message.chatwoot_message_id, message.content) if message.kind != "reply" else message.content
            )
            kinds = tuple(filter(None, (message.attachment_kinds or "").split(",")))
            if content or (kinds and message.kind == "customer"):
                messages.append(Message(roles[message.kind], content or "", kinds))
        channel = ASSISTANT_CHANNELS.get(self.channel or "", "other")
        return Conversation(tuple(messages), channel, f"chatwoot:{self.account_id}:{self.chatwoot_id}")

    def _assistant(self):
        service = self.env["semantic.search.service"]
        catalog = OdooCatalog(self.env, self.company_id)
        rules = service._assistant_rules_port(self.company_id)
        mode = self._cw_param("assistant_mode")
        if mode == "llm":
            return SalesAssistant(catalog, rules, mode="llm", llm=service._get_settings().llm)
        return SalesAssistant(catalog, rules)

    def _outside_hours(self):
        """Whether now is outside the shop's hours (``hours_from``..``hours_to``, the company's time zone)."""
        start, end = self._cw_number("hours_from"), self._cw_number("hours_to")
        if (start <= 0 and end >= 24) or start == end:
            return False
        tz = self.company_id.partner_id.tz or self.env.user.tz or "UTC"
        now = fields.Datetime.context_timestamp(self.with_context(tz=tz), fields.Datetime.now())
        hour = now.hour + now.minute / 60
        return not (start <= hour < end) if start <= end else (end <= hour < start)

    def _job_reply(self):
        """Answer the conversation's waiting burst once (queued by :meth:`_enqueue_reply`).

        Never twice: the burst is claimed in a committed transaction of its own before the first part is
        posted (:meth:`_claim_burst`), so a job that runs again finds nothing to answer. Once anything
        may have reached Chatwoot (a part, a 5xx or timeout on one, the status), an error stops the job
        instead of retrying, and the agents are asked to take over.
        """
        if not self.exists():
            return "conversation deleted"
        self.ensure_one()
        interrupted = self._hand_over_interrupted()
        if interrupted:
            return interrupted
        pending = self._pending_messages()
        if not pending or self.paused or self.status != "pending":
            pending.write({"awaiting_reply": False})
            return "nothing to answer"
        now = time.time()
        plan = plan_burst(
            [BurstMessage(m.chatwoot_message_id, m.received_at, m.content or "") for m in pending],
            now=now,
            window=self._cw_number("burst_window"),
        )
        if not plan.ready:
            raise RetryableJobError("burst still open", seconds=max(1, math.ceil(plan.wait)), ignore_retry=True)
        client = self._cw_client()
        started = time.monotonic()
        outside = self._cw_param("outside_hours") if self._outside_hours() else "answer"
        answered_through = self.answered_through
        log_id, acted, handed_over, sent, parts, failure = None, False, False, [], [], None
        try:
            with client.typing(self.chatwoot_id):
                reply = self._answer(plan, outside)
                parts = [piece for part in reply["parts"] for piece in split_reply(part, self.channel or "")]
                claim = self._claim_burst(plan, pending, reply, parts)
                if isinstance(claim, str):
                    return claim
                log_id = claim
                for part in parts:
                    client.send_message(self.chatwoot_id, part, reply_to=plan.last_id)
                    sent.append(part)
                    acted = True
                if reply["handoff"]:
                    client.toggle_status(self.chatwoot_id, "open")
                    acted = handed_over = True
                    client.send_private_note(self.chatwoot_id, reply["summary"] or reply["reason"] or "handoff")
        except Exception as exc:
            # refused for certain: Chatwoot's 4xx/429, no connection, or a URL refused before connecting
            refused = (isinstance(exc, ChatwootAPIError) and not exc.uncertain) or isinstance(exc, UnsafeURLError)
            # nothing claimed, or refused before anything reached Chatwoot: another attempt repeats nothing
            if log_id is None or (
                not acted and refused and self._release_burst(plan, pending, answered_through, log_id)
            ):
                retry = self._retry_later(exc)
                if retry is not None:
                    raise retry from exc
                raise
            # Part of the reply is (or may be) out: a retry could send it twice. Record it, stop, hand over.
            failure = exc
            code = _error_code(exc)
            _logger.warning(
                "Chatwoot conversation %s: %d of %d part(s) sent, then %s; not retried (no duplicate replies)",
                self.chatwoot_id,
                len(sent),
                len(parts),
                code,
            )
            note = self.env._(
                "The bot's reply stopped after %(sent)s of %(total)s part(s) (Chatwoot error: %(code)s). "
                "Please check what the customer received and continue the conversation.",
                sent=len(sent),
                total=len(parts),
                code=code,
            )
            handed_over = handed_over or self._hand_over(client, note)
        latency = (time.time() - max(m.received_at for m in pending)) * 1000
        try:
            self._in_own_transaction(
                lambda conversation: conversation._record_reply(
                    log_id, reply, sent, latency, time.monotonic() - started, failure, handed_over
                )
            )
        except psycopg2.Error:
            # the reply went out and the burst is claimed: the log row is what is lost, not the answer
            _logger.exception("Chatwoot conversation %s: the reply was sent but could not be logged", self.chatwoot_id)
        return f"answered {len(plan.message_ids)} message(s) in {len(sent)} part(s)" + (
            f" (stopped: {_error_code(failure)})" if failure else ""
        )

    @api.model
    def _retry_later(self, error):
        """A :class:`RetryableJobError` for a Chatwoot error worth another attempt (else ``None``)."""
        if not isinstance(error, ChatwootAPIError):
            return None
        if error.code in RETRYABLE_API_CODES or (error.status and (error.status == 429 or error.status >= 500)):
            wait = 30 if error.retry_after is None else error.retry_after
            return RetryableJobError(f"Chatwoot: {error.code}", seconds=int(min(MAX_RETRY_SECONDS, max(5, wait))))
        return None

    def _hand_over(self, client, note):
        """Best effort: open the conversation for the agents, and leave them a private note (each tried on
        its own). ``True`` when Chatwoot opened it."""
        opened = self._best_effort("toggle_status", lambda: client.toggle_status(self.chatwoot_id, "open"))
        self._best_effort("note", lambda: client.send_private_note(self.chatwoot_id, note))
        return opened

    def _best_effort(self, step, call):
        """``call()``; ``False`` (logged) when it fails: the pause and the log row still tell the agents."""
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - best effort
            _logger.warning(
                "Chatwoot conversation %s: hand-over (%s) after a failed reply: %s",
                self.chatwoot_id,
                step,
                _error_code(exc),
            )
            return False
        return True

    def _hand_over_interrupted(self):
        """A run of this same job that claimed a burst and then died (a restart, a time limit) left its
        reply row ``sending``: what reached the customer is unknown, so a person takes over. Returns
        what this run did, or ``None`` when there was no such row."""
        job_uuid = self.env.context.get("job_uuid")
        if not job_uuid:
            return None
        marker = f"sending:{job_uuid}"
        if not self.message_ids.filtered(lambda m: m.kind == "reply" and m.decision == marker):
            return None
        note = self.env._(
            "The bot's reply was interrupted (a server restart or a time limit) and may have reached the "
            "customer only in part. Please check what the customer received and continue the conversation."
        )
        try:
            handed_over = self._hand_over(self._cw_client(), note)
        except ConfigError:
            handed_over = False

        def record(conversation):
            rows = conversation.message_ids.filtered(lambda m: m.kind == "reply" and m.decision == marker)
            rows.write({"decision": "stopped: interrupted"})
            values = {"paused": True, "pause_reason": "reply_failed", "last_activity": fields.Datetime.now()}
            if handed_over:
                values["status"] = "open"
            conversation.write(values)

        self._in_own_transaction(record)
        return "interrupted earlier: handed over"

    def _answer(self, plan, outside):
        """``{"parts", "citations", "handoff", "reason", "summary", "language", "mode"}``."""
        if outside == "handoff":
            return {
                "parts": [self._cw_param("outside_hours_message")] if self._cw_param("outside_hours_message") else [],
                "citations": [],
                "handoff": True,
                "reason": "outside_hours",
                "summary": self.env._("Outside business hours. The customer wrote:\n%s", plan.text),
                "language": "",
                "mode": "outside_hours",
            }
        if outside == "message" and self._cw_param("outside_hours_message"):
            return {
                "parts": [self._cw_param("outside_hours_message")],
                "citations": [],
                "handoff": False,
                "reason": "outside_hours",
                "summary": None,
                "language": "",
                "mode": "outside_hours",
            }
        reply = self._assistant().reply(self._assistant_conversation(plan), at=fields.Date.context_today(self))
        return {
            "parts": list(reply.parts),
            "citations": [citation.to_dict() for citation in reply.citations],
            "handoff": reply.handoff,
            "reason": reply.reason,
            "summary": reply.summary,
            "language": reply.language,
            "mode": reply.mode,
        }

    def _record_reply(self, log_id, reply, parts, latency_ms, work_seconds, failure, handed_over):
        """Finish the reply's log row and the state it leaves (run through :meth:`_in_own_transaction`)."""
        values = {"last_activity": fields.Datetime.now()}
        if failure is not None:
            # the customer saw (or may have seen) part of an answer: a person finishes it. The status is
            # ``open`` only if Chatwoot says so: a "pending" seen later must not read as a hand-back.
            values.update(paused=True, pause_reason="reply_failed")
            if handed_over:
                values["status"] = "open"
        elif reply["handoff"]:
            values.update(status="open", paused=True, pause_reason="handoff", handoff_count=self.handoff_count + 1)
        self.write(values)
        code = _error_code(failure) if failure is not None else None
        self.env["semantic.chatwoot.message"].browse(log_id).write(
            {
                "content": "\n\n".join(parts),
                "part_count": len(parts),
                "citations": json.dumps(reply["citations"]),
                "handoff_reason": reply["reason"] if reply["handoff"] else False,
                "summary": reply["summary"] if reply["handoff"] else False,
                "language": reply["language"],
                "mode": reply["mode"],
                "latency_ms": latency_ms,
                "work_ms": work_seconds * 1000,
                "received_at": time.time(),
                "decision": f"stopped: {code}" if code else False,
            }
        )
        if failure is None and not reply["handoff"] and self._newest_awaiting_id() > self.answered_through:
            # a message whose delivery saw this job still waiting (so it queued none) and committed after
            # the claim: its burst gets a job of its own
            self._enqueue_reply()

    # ------------------------------------------------------------------ retention

    @api.autovacuum
    def _gc_chatwoot_log(self):
        """Keep ``chatwoot_log_days`` (90) days of conversations and of dedupe keys."""
        days = self._cw_number("log_days", int, 1)
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """DELETE FROM semantic_chatwoot_conversation
                    WHERE last_activity < (now() at time zone 'UTC') - make_interval(days => %s)""",
                days,
            )
        )
        self.env.cr.execute(
            SQL(
                """DELETE FROM semantic_chatwoot_message
                    WHERE create_date < (now() at time zone 'UTC') - make_interval(days => %s)""",
                days,
            )
        )
        self.env.cr.execute(
            SQL(
                """DELETE FROM semantic_chatwoot_dedupe
                    WHERE create_date < (now() at time zone 'UTC') - make_interval(days => %s)""",
                days,
            )
        )
        self.env.invalidate_all()


class SemanticChatwootMessage(models.Model):
    _name = "semantic.chatwoot.message"
    _description = "Chatwoot Message Log"
    _order = "id desc"

    conversation_id = fields.Many2one(
        "semantic.chatwoot.conversation", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="conversation_id.company_id", store=True)
    chatwoot_message_id = fields.Integer(readonly=True, index=True)
    kind = fields.Selection(
        [
            ("customer", "Customer"),
            ("agent", "Agent"),
            ("bot", "Bot (echo)"),
            ("note", "Private note"),
            ("other", "Other"),
            ("event", "Status event"),
            ("reply", "Bot reply"),
        ],
        required=True,
        readonly=True,
    )
    event = fields.Char(readonly=True)
    content = fields.Text(readonly=True)
    attachment_count = fields.Integer(readonly=True)
    attachment_kinds = fields.Char(
        readonly=True, help="Kinds of the attachments the assistant could not read (audio without transcription...)."
    )
    received_at = fields.Float(readonly=True, help="Unix time the delivery arrived (or the reply was posted).")
    decision = fields.Char(readonly=True, help="Why the bot answers this delivery or not (the library's reason).")
    awaiting_reply = fields.Boolean(readonly=True, index=True)
    reply_to_id = fields.Integer(string="Replying To", readonly=True)
    answered_count = fields.Integer(string="Messages Answered", readonly=True)
    part_count = fields.Integer(string="Parts", readonly=True)
    citations = fields.Text(readonly=True, help="JSON list of the products and rules the reply rests on.")
    handoff = fields.Boolean(readonly=True)
    handoff_reason = fields.Char(readonly=True)
    summary = fields.Text(readonly=True)
    language = fields.Char(readonly=True)
    mode = fields.Char(readonly=True)
    latency_ms = fields.Float(string="Latency (ms)", readonly=True, help="From the newest message answered to posted.")
    work_ms = fields.Float(string="Work (ms)", readonly=True, help="Typing on to the last part posted.")

    @api.depends("conversation_id.display_label", "kind", "chatwoot_message_id")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for message in self:
            number = f" {message.chatwoot_message_id}" if message.chatwoot_message_id else ""
            message.display_name = f"{message.conversation_id.display_label} · {kinds.get(message.kind, '')}{number}"


class SemanticChatwootDedupe(models.Model):
    """Keys of deliveries already applied (``odoo_search_lib.chatwoot.dedupe_keys``), under a unique index."""

    _name = "semantic.chatwoot.dedupe"
    _description = "Chatwoot Delivery Key"
    _log_access = False

    key = fields.Char(required=True, readonly=True)
    create_date = fields.Datetime(readonly=True)

    _sql_constraints = [("chatwoot_dedupe_key_unique", "UNIQUE(key)", "A delivery key is stored once.")]

    @api.model
    def _claim(self, keys):
        """Store ``keys``; ``True`` when none was stored before (the delivery is new).

        ``INSERT ... ON CONFLICT DO NOTHING``: a concurrent delivery with the same key waits for this
        transaction and then finds the key taken.
        """
        claimed = 0
        for key in keys:
            self.env.cr.execute(
                SQL(
                    """INSERT INTO semantic_chatwoot_dedupe (key, create_date)
                       VALUES (%s, now() at time zone 'UTC') ON CONFLICT (key) DO NOTHING RETURNING id""",
                    key,
                )
            )
            claimed += bool(self.env.cr.fetchone())
        return claimed == len(keys)
