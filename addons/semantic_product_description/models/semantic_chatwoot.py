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

from odoo_search_lib import ChatwootAPIError, ConfigError
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
        """Customer messages above the watermark that wait for an answer, oldest first."""
        self.ensure_one()
        floor = max(self.history_before, self.answered_through)
        return self.message_ids.filtered(
            lambda m: m.kind == "customer" and m.awaiting_reply and m.chatwoot_message_id > floor
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
                    result = work(self.with_env(self.env(cr=cr)))
                self.env.invalidate_all()
                return result
            except _CONFLICTS:
                if attempt + 1 == OWN_TRANSACTION_ATTEMPTS:
                    raise
                time.sleep(0.05 * 2**attempt)
        return None

    def _claim_burst(self, plan, pending):
        """Mark ``pending`` answered, committed before the first part is posted; ``None`` when claimed, else
        why not to post (read fresh: a person took the conversation, a newer message came, another job
        answered). A job that runs again after posting finds nothing to answer, so nothing goes out twice."""

        def claim(conversation):
            if conversation.paused or conversation.status != "pending":
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
            return None

        return self._in_own_transaction(claim)

    def _release_burst(self, plan, pending, answered_through):
        """Undo :meth:`_claim_burst` when Chatwoot refused the first part: nothing reached the customer."""

        def release(conversation):
            conversation.env.cr.execute(
                SQL("UPDATE semantic_chatwoot_message SET awaiting_reply = true WHERE id IN %s", tuple(pending.ids))
            )
            if conversation.answered_through == plan.last_id:
                conversation.write({"answered_through": answered_through})

        try:
            self._in_own_transaction(release)
        except psycopg2.Error:
            _logger.exception("Chatwoot conversation %s: could not release the burst", self.chatwoot_id)

    def _assistant_conversation(self, plan):
        """History above the watermark, as the assistant's conversation (customer messages of the burst
        limited to those the plan kept)."""
        kept = set(plan.message_ids)
        # our own replies are logged as "reply" when posted; their echoes ("bot") would count twice
        roles = {"customer": "customer", "reply": "assistant", "agent": "agent"}
        messages = []
        for message in self.message_ids.sorted("id"):
            if message.kind not in roles or (message.chatwoot_message_id or message.reply_to_id) <= self.history_before:
                continue
            if message.kind != "reply" and message.event != "message_created":
                continue  # an edit (message_updated) repeats a message already here
            if message.kind == "customer" and message.awaiting_reply and message.chatwoot_message_id not in kept:
                continue
            kinds = tuple(filter(None, (message.attachment_kinds or "").split(",")))
            if message.content or (kinds and message.kind == "customer"):
                messages.append(Message(roles[message.kind], message.content or "", kinds))
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
        posted (:meth:`_claim_burst`), so a job that runs again finds nothing to answer; a Chatwoot error
        after a part may have gone out stops the job instead of retrying, and a person takes over.
        """
        if not self.exists():
            return "conversation deleted"
        self.ensure_one()
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
        claimed, sent, parts, failure = False, [], [], None
        try:
            with client.typing(self.chatwoot_id):
                reply = self._answer(plan, outside)
                parts = [piece for part in reply["parts"] for piece in split_reply(part, self.channel or "")]
                refused = self._claim_burst(plan, pending)
                if refused:
                    return refused
                claimed = True
                for part in parts:
                    client.send_message(self.chatwoot_id, part, reply_to=plan.last_id)
                    sent.append(part)
                if reply["handoff"]:
                    client.toggle_status(self.chatwoot_id, "open")
                    client.send_private_note(self.chatwoot_id, reply["summary"] or reply["reason"] or "handoff")
        except ChatwootAPIError as exc:
            if claimed and not sent and not exc.uncertain:
                self._release_burst(plan, pending, answered_through)  # refused: nothing reached the customer
                claimed = False
            if not claimed:
                if exc.code in RETRYABLE_API_CODES or (exc.status and (exc.status == 429 or exc.status >= 500)):
                    wait = min(MAX_RETRY_SECONDS, max(5, int(exc.retry_after or 30)))
                    raise RetryableJobError(f"Chatwoot: {exc.code}", seconds=wait) from exc
                raise
            # Part of the reply is (or may be) out: a retry could send it twice. Record it, stop, hand over.
            failure = exc
            _logger.warning(
                "Chatwoot conversation %s: %d of %d part(s) sent, then %s; not retried (no duplicate replies)",
                self.chatwoot_id,
                len(sent),
                len(parts),
                exc.code,
            )
            self._hand_over_after_failure(client, len(sent), len(parts), exc)
        latency = (time.time() - max(m.received_at for m in pending)) * 1000
        try:
            self._in_own_transaction(
                lambda conversation: conversation._record_reply(
                    plan, reply, sent, latency, time.monotonic() - started, failure
                )
            )
        except psycopg2.Error:
            # the reply went out and the burst is claimed: the log row is what is lost, not the answer
            _logger.exception("Chatwoot conversation %s: the reply was sent but could not be logged", self.chatwoot_id)
        return f"answered {len(plan.message_ids)} message(s) in {len(sent)} part(s)" + (
            f" (stopped: {failure.code})" if failure else ""
        )

    def _hand_over_after_failure(self, client, sent, total, error):
        """Best effort after a reply stopped half-way: open the conversation for the agents, with a note."""
        note = self.env._(
            "The bot's reply stopped after %(sent)s of %(total)s part(s) (Chatwoot error: %(code)s). "
            "Please check what the customer received and continue the conversation.",
            sent=sent,
            total=total,
            code=error.code,
        )
        for action in (
            lambda: client.toggle_status(self.chatwoot_id, "open"),
            lambda: client.send_private_note(self.chatwoot_id, note),
        ):
            try:
                action()
            except ChatwootAPIError as exc:
                _logger.warning(
                    "Chatwoot conversation %s: hand-over after a failed reply: %s", self.chatwoot_id, exc.code
                )

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

    def _record_reply(self, plan, reply, parts, latency_ms, work_seconds, failure=None):
        """Log the posted reply and the state it leaves (run through :meth:`_in_own_transaction`)."""
        values = {"last_activity": fields.Datetime.now()}
        if failure is not None:
            # the customer saw (or may have seen) part of an answer: a person finishes it
            values.update(status="open", paused=True, pause_reason="reply_failed")
        elif reply["handoff"]:
            values.update(status="open", paused=True, pause_reason="handoff", handoff_count=self.handoff_count + 1)
        elif self._newest_awaiting_id() > plan.last_id:
            # a message whose delivery saw this job still waiting (so it queued none) and committed after
            # the claim: its burst gets a job of its own
            self._enqueue_reply()
        self.write(values)
        self.env["semantic.chatwoot.message"].create(
            {
                "conversation_id": self.id,
                "kind": "reply",
                "content": "\n\n".join(parts),
                "part_count": len(parts),
                "reply_to_id": plan.last_id,
                "answered_count": len(plan.message_ids),
                "citations": json.dumps(reply["citations"]),
                "handoff": reply["handoff"],
                "handoff_reason": reply["reason"] if reply["handoff"] else False,
                "summary": reply["summary"] if reply["handoff"] else False,
                "language": reply["language"],
                "mode": reply["mode"],
                "latency_ms": latency_ms,
                "work_ms": work_seconds * 1000,
                "received_at": time.time(),
                "decision": f"stopped: {failure.code}" if failure is not None else False,
            }
        )

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
