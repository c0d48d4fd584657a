# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The Chatwoot webhook route and the reply job, against a stand-in Chatwoot on 127.0.0.1."""

import json
import logging
import time

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.exception import RetryableJobError

from odoo_search_lib.chatwoot import BurstMessage, plan_burst
from odoo_search_lib.chatwoot.testing import (
    StandInChatwoot,
    conversation_payload,
    message_payload,
    send_delivery,
)

from ..models.semantic_chatwoot import CHATWOOT_PREFIX
from ..rate_limit import limiter
from .common import WebhookTestMixin

SECRET = "whsec-test-secret"
#: What the assistant answered, as the reply job passes it to the claim.
REPLY = {"parts": ["Olá!"], "citations": [], "handoff": False, "reason": None, "summary": None}
TOKEN = "user-token"


@tagged("post_install", "-at_install")
class TestChatwootWebhook(WebhookTestMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_webhooks()
        cls.chatwoot = StandInChatwoot(account_id=1, token=TOKEN)
        cls.addClassCleanup(cls.chatwoot.close)
        cls.Conversation = cls.env["semantic.chatwoot.conversation"]
        cls.Log = cls.env["semantic.chatwoot.message"]

    def setUp(self):
        super().setUp()
        limiter._buckets.clear()
        self.chatwoot._failures.clear()
        self._chatwoot_params(
            enabled="True",
            base_url=self.chatwoot.url,
            account_id="1",
            api_token=TOKEN,
            webhook_secret=SECRET,
            burst_window="0",
            rate_limit="60",
        )
        for name in ("calls", "messages", "notes", "statuses", "typing"):
            getattr(self.chatwoot, name).clear()

    def _chatwoot_params(self, **values):
        params = self.env["ir.config_parameter"].sudo()
        for key, value in values.items():
            params.set_param(CHATWOOT_PREFIX + key, value)
        self.env.flush_all()  # the route reads them through its own environment

    @property
    def url(self):
        return self.base_url() + "/api/v1/chatwoot/webhook"

    def _deliver(self, body, **kwargs):
        kwargs.setdefault("secret", SECRET)
        return send_delivery(self.url, body, **kwargs)

    def _reply_jobs(self):
        return self._semantic_jobs(method_name="_job_reply")

    def _conversation(self, chatwoot_id=128):
        return self.Conversation.search([("chatwoot_id", "=", chatwoot_id)])

    # ------------------------------------------------------------------ happy paths

    def test_burst_gets_one_reply_with_typing_off(self):
        for message_id, text in ((9001, "oi"), (9002, "boa noite"), (9003, "quero falar com um atendente")):
            response = self._deliver(message_payload(message_id=message_id, content=text))
            self.assertEqual(response.status_code, 200, response.text)
            self.assertTrue(response.json()["queued"])
        self.assertEqual(len(self._reply_jobs()), 1, "one job per conversation")
        self._run_jobs()
        self.assertEqual(self.chatwoot.typing, [(128, "on"), (128, "off")])
        self.assertEqual(len(self.chatwoot.messages), 1)
        self.assertTrue(self.chatwoot.messages[0]["content_attributes"].get("odoo_bot"))
        # a request for a person: handed off, with a note for the agent
        self.assertEqual(self.chatwoot.statuses, [(128, "open")])
        self.assertEqual(len(self.chatwoot.notes), 1)
        conversation = self._conversation()
        self.assertTrue(conversation.paused)
        self.assertEqual(conversation.status, "open")
        reply = self.Log.search([("conversation_id", "=", conversation.id), ("kind", "=", "reply")])
        self.assertEqual(len(reply), 1)
        self.assertTrue(reply.handoff)
        self.assertEqual(reply.answered_count, 3)
        self.assertGreater(reply.latency_ms, 0)
        # the customer writes again while a person handles it: no reply
        response = self._deliver(message_payload(message_id=9004, content="oi?", status="open"))
        self.assertFalse(response.json()["queued"])
        self.assertEqual(response.json()["reason"], "not_pending")

    def test_attachments_are_acknowledged_and_handed_off_unless_transcribed(self):
        audio = message_payload(message_id=9050, content="", conversation_id=50, attachments=(("audio", ""),))
        self.assertTrue(self._deliver(audio).json()["queued"])
        spoken = message_payload(
            message_id=9060, content="", conversation_id=60, attachments=(("audio", "oi, boa noite"),)
        )
        self.assertTrue(self._deliver(spoken).json()["queued"])
        self._run_jobs()
        by_conversation = {message["conversation_id"]: message["content"] for message in self.chatwoot.messages}
        self.assertIn("não consigo abrir seu áudio", by_conversation[50])
        self.assertEqual(self.chatwoot.statuses, [(50, "open")], "only the untranscribed audio is handed off")
        self.assertTrue(self._conversation(50).paused)
        self.assertEqual(self.Log.search([("chatwoot_message_id", "=", 9050)]).attachment_kinds, "audio")
        # Chatwoot's transcription is the customer's text: answered as if typed
        self.assertTrue(by_conversation[60].startswith("Olá!"), by_conversation[60])
        self.assertEqual(self.Log.search([("chatwoot_message_id", "=", 9060)]).content, "oi, boa noite")

    def test_duplicate_delivery_is_answered_once(self):
        body = message_payload(message_id=9100, content="boa tarde")
        first = self._deliver(body, delivery_id="d-9100")
        again = self._deliver(body, delivery_id="d-9100")
        other_url = self._deliver(body)  # same message, another delivery id (second URL)
        self.assertEqual(first.status_code, 200)
        self.assertEqual(again.json(), {"ok": True, "duplicate": True})
        self.assertEqual(other_url.json(), {"ok": True, "duplicate": True})
        self.assertEqual(len(self.Log.search([("chatwoot_message_id", "=", 9100)])), 1)
        self._run_jobs()
        self.assertEqual(len(self.chatwoot.messages), 1)
        self.assertEqual(self.chatwoot.typing[-1], (128, "off"))

    def test_human_takeover_pauses_the_bot(self):
        self._deliver(message_payload(message_id=9200, content="oi", conversation_id=200))
        agent = message_payload(
            message_id=9201,
            content="Oi Maria, aqui é a Ana",
            message_type="outgoing",
            sender_type="user",
            conversation_id=200,
        )
        self.assertFalse(self._deliver(agent).json()["queued"])
        later = self._deliver(message_payload(message_id=9202, content="obrigada", conversation_id=200))
        self.assertEqual(later.json()["reason"], "bot_paused")
        self._run_jobs()
        self.assertEqual(self.chatwoot.messages, [], "a paused conversation gets no reply")
        # resolved, then the customer writes again: the bot answers the new message only
        self._deliver(conversation_payload(event="conversation_resolved", status="resolved", conversation_id=200))
        fresh = self._deliver(message_payload(message_id=9300, content="oi de novo", conversation_id=200))
        self.assertTrue(fresh.json()["queued"])

    def test_burst_window_postpones_the_job(self):
        self._chatwoot_params(burst_window="30")
        self._deliver(message_payload(message_id=9400, content="oi", conversation_id=400))
        job = self._reply_jobs()
        self.assertEqual(len(job), 1)
        self.assertTrue(job.eta, "the job waits for the burst to close")
        self.assertEqual(self._run_jobs(), 0)
        self._make_due(job)
        self._run_jobs()  # the burst is still open: postponed again, nothing sent
        self.assertEqual(self.chatwoot.messages, [])
        self.assertEqual(job.state, "pending")

    def test_url_token_authenticates_without_secret(self):
        self._chatwoot_params(webhook_secret="")
        token = self.Conversation.sudo()._cw_url_token()
        body = message_payload(message_id=9500, content="oi", conversation_id=501)
        self.assertEqual(send_delivery(f"{self.url}/{token}", body).status_code, 200)
        wrong = send_delivery(f"{self.url}/{token}x", message_payload(message_id=9501, conversation_id=501))
        self.assertEqual(wrong.status_code, 401)
        self.assertEqual(wrong.json()["error"]["code"], "bad_token")
        self.assertEqual(send_delivery(self.url, body).json()["error"]["code"], "missing_token")
        self.Conversation.sudo()._cw_rotate_url_token()
        self.env.flush_all()
        self.assertEqual(send_delivery(f"{self.url}/{token}", body).status_code, 401)

    # ------------------------------------------------------------------ hostile deliveries

    @mute_logger("odoo.addons.semantic_product_description.controllers.api")
    def test_hostile_deliveries_store_nothing(self):
        body = message_payload(message_id=9600, content="oi", conversation_id=600)
        raw = json.dumps(body).encode()
        cases = {
            "missing_signature": (401, lambda: send_delivery(self.url, raw)),
            "bad_signature": (401, lambda: send_delivery(self.url, raw, secret="other-secret")),
            "stale_timestamp": (401, lambda: self._deliver(raw, timestamp=int(time.time()) - 3600)),
            "wrong_account": (403, lambda: self._deliver(message_payload(message_id=9601, account_id=2))),
            "too_large": (413, lambda: self._deliver(b'{"x": "' + b"a" * (1024 * 1024 + 10) + b'"}')),
            "bad_json": (400, lambda: self._deliver(b'{"event": "message_created",')),
            "bad_payload": (400, lambda: self._deliver({"event": "message_created", "id": "x"})),
        }
        for code, (status, call) in cases.items():
            with self.subTest(code=code):
                response = call()
                self.assertEqual(response.status_code, status, response.text)
                self.assertEqual(response.json()["error"]["code"], code)
        self.assertFalse(self._conversation(600))
        self.assertFalse(self.env["semantic.chatwoot.dedupe"].sudo().search([("key", "like", "%:9600")]))
        # a replay of a delivery already applied is a duplicate, not a second reply
        self.assertEqual(self._deliver(raw, delivery_id="r-1").status_code, 200)
        self.assertTrue(self._deliver(raw, delivery_id="r-1").json()["duplicate"])
        unknown = self._deliver({"event": "contact_created", "account": {"id": 1}})
        self.assertEqual(unknown.status_code, 200)
        self.assertEqual(unknown.json()["ignored"], "contact_created")
        self._chatwoot_params(enabled="")
        disabled = self._deliver(raw)
        self.assertEqual(disabled.status_code, 404)
        self.assertEqual(disabled.json()["error"]["code"], "not_found")

    @mute_logger("odoo.addons.semantic_product_description.controllers.api")
    def test_two_hundred_messages_in_a_second_make_one_job(self):
        # the limiter's clock stands still: the 200 arrive within one second however slow the machine
        now = [1000.0]
        self.patch(limiter, "_clock", lambda: now[0])

        def deliver(message_id):
            body = message_payload(message_id=message_id, content=f"msg {message_id}", conversation_id=700)
            return self._deliver(body).status_code

        statuses = [deliver(message_id) for message_id in range(20000, 20200)]
        # the per-conversation limit: 60 a minute, the rest refused
        self.assertEqual(statuses, [200] * 60 + [429] * 140)
        now[0] += 1.0
        self.assertEqual(deliver(20200), 200, "a token refills each second")
        self.assertEqual(deliver(20201), 429)
        self.assertEqual(len(self._reply_jobs()), 1)
        self._run_jobs()
        self.assertEqual(len(self.chatwoot.messages), 1)

    @mute_logger("odoo_search_lib.chatwoot.client", "odoo.addons.semantic_product_description.tests.common")
    def test_chatwoot_errors(self):
        self._deliver(message_payload(message_id=9800, content="oi", conversation_id=800))
        self.chatwoot.fail_next(429, times=10, retry_after="0", action="messages")
        self._run_jobs()
        job = self._reply_jobs()
        self.assertEqual(job.state, "pending", "refused before anything was posted: retried later")
        self.assertEqual(self.chatwoot.messages, [])
        self.assertTrue(self.Log.search([("chatwoot_message_id", "=", 9800)]).awaiting_reply, "released")
        self.chatwoot._failures.clear()
        self.chatwoot.fail_next(401, times=10)
        self._make_due(job)
        self._run_jobs()
        self.assertEqual(job.state, "failed", "a bad token is permanent")
        self.chatwoot._failures.clear()
        self._make_due(job)
        job.requeue()
        self._run_jobs()
        self.assertEqual(len(self.chatwoot.messages), 1, "requeued once the token is fixed: answered")

    @mute_logger("odoo_search_lib.chatwoot.client", "odoo.addons.semantic_product_description.models.semantic_chatwoot")
    def test_a_server_error_on_the_reply_hands_over_instead_of_retrying(self):
        """A 5xx (or a timeout) may follow a message Chatwoot saved: sending it again could show it twice."""
        self._deliver(message_payload(message_id=9850, content="boa tarde", conversation_id=850))
        self.chatwoot.fail_next(502, action="messages")
        self._run_jobs()
        self.assertEqual(self._reply_jobs(), self._reply_jobs().browse(), "not retried")
        self.assertEqual(self.chatwoot.messages, [])
        conversation = self._conversation(850)
        self.assertEqual((conversation.paused, conversation.pause_reason), (True, "reply_failed"))
        self.assertEqual(self.chatwoot.statuses, [(850, "open")], "handed to the agents")
        self.assertEqual(len(self.chatwoot.notes), 1)
        self.assertIn("0 of 1", self.chatwoot.notes[0]["content"])

    @mute_logger("odoo_search_lib.chatwoot.client", "odoo.addons.semantic_product_description.models.semantic_chatwoot")
    def test_a_reply_partly_sent_is_never_sent_twice(self):
        self._deliver(message_payload(message_id=9900, content="quero falar com um atendente", conversation_id=900))
        self.chatwoot.fail_next(500, times=10, action="toggle_status")  # after the message went out
        self._run_jobs()
        self.assertEqual(len(self.chatwoot.messages), 1)
        self.assertEqual(len(self.chatwoot.notes), 1, "the agents are told the reply stopped")
        self.assertEqual(self._reply_jobs(), self._reply_jobs().browse(), "not retried: it would repeat the reply")
        conversation = self._conversation(900)
        self.assertTrue(conversation.paused)
        self.assertEqual(conversation.pause_reason, "reply_failed")
        reply = self.Log.search([("conversation_id", "=", conversation.id), ("kind", "=", "reply")])
        self.assertEqual(reply.decision, "stopped: unavailable")
        self.assertEqual(self.chatwoot.typing[-1], (900, "off"))
        # the job running again (a lost transaction) finds the burst answered
        self.chatwoot._failures.clear()
        conversation._job_reply()
        self.assertEqual(len(self.chatwoot.messages), 1)

    # ------------------------------------------------------------------ races and hand-backs

    def test_a_claimed_burst_is_answered_by_one_job_only(self):
        self._deliver(message_payload(message_id=9950, content="oi", conversation_id=950))
        conversation = self._conversation(950)
        pending = conversation._pending_messages()
        plan = plan_burst(_burst(pending), now=time.time(), window=0)
        self.assertIsInstance(conversation._claim_burst(plan, pending, REPLY, ["Olá!"]), int, "the reply's log row")
        self.assertEqual(conversation._claim_burst(plan, pending, REPLY, ["Olá!"]), "already answered")
        self.assertEqual(conversation._job_reply(), "nothing to answer", "a job run again posts nothing")
        self.assertEqual(self.chatwoot.messages, [])

    def test_a_message_newer_than_the_burst_gets_its_own_job(self):
        """The runner took the job while a newer message's delivery saw it still waiting and queued none."""
        self._deliver(message_payload(message_id=9960, content="oi", conversation_id=960))
        conversation = self._conversation(960)
        pending = conversation._pending_messages()
        plan = plan_burst(_burst(pending), now=time.time(), window=0)
        self._deliver(message_payload(message_id=9961, content="tem cafeteira?", conversation_id=960))
        self._reply_jobs().write({"state": "started"})
        self.env.flush_all()
        self.assertEqual(conversation._claim_burst(plan, pending, REPLY, ["Olá!"]), "superseded by a newer message")
        waiting = self._semantic_jobs(states=("pending",), method_name="_job_reply")
        self.assertEqual(len(waiting), 1, "a job for the newer burst")
        self._run_jobs()
        self.assertEqual(len(self.chatwoot.messages), 1)
        self.assertEqual(self.chatwoot.messages[0]["content_attributes"]["odoo_reply_to"], 9961)

    def test_a_person_taking_over_while_the_reply_is_written_stops_it(self):
        self._deliver(message_payload(message_id=9970, content="oi", conversation_id=970))
        conversation = self._conversation(970)
        pending = conversation._pending_messages()
        plan = plan_burst(_burst(pending), now=time.time(), window=0)
        self._deliver(conversation_payload(event="conversation_status_changed", status="open", conversation_id=970))
        self.assertEqual(conversation._claim_burst(plan, pending, REPLY, ["Olá!"]), "taken over before the reply")
        # handed back before the reply was posted: what it answers is the agent's now
        back = conversation_payload(event="conversation_status_changed", status="pending", conversation_id=970)
        self._deliver(back)
        self.assertFalse(conversation.paused)
        self.assertEqual(conversation._claim_burst(plan, pending, REPLY, ["Olá!"]), "taken over before the reply")

    def test_the_bot_answers_again_after_a_hand_back(self):
        self._deliver(message_payload(message_id=9980, content="quero falar com um atendente", conversation_id=980))
        self._run_jobs()
        self.assertEqual(self.chatwoot.statuses, [(980, "open")])
        agent = message_payload(
            message_id=9982,
            content="Oi, sou a Ana",
            message_type="outgoing",
            sender_type="user",
            conversation_id=980,
            status="open",
        )
        self._deliver(agent)
        back = conversation_payload(event="conversation_status_changed", status="pending", conversation_id=980)
        self._deliver(back)
        self.assertFalse(self._conversation(980).paused)
        self.assertTrue(
            self._deliver(message_payload(message_id=9990, content="oi", conversation_id=980)).json()["queued"]
        )
        self._run_jobs()
        self.assertEqual(len(self.chatwoot.messages), 2, "answered, not silenced by the agent's old words")
        self.assertTrue(self.chatwoot.messages[1]["content"].startswith("Olá"), self.chatwoot.messages[1]["content"])
        self.assertEqual(self.chatwoot.statuses, [(980, "open")], "no second handoff")

    def test_an_edited_message_is_read_once(self):
        self._chatwoot_params(burst_window="30")
        self._deliver(message_payload(message_id=9995, content="tem cafeteira", conversation_id=995))
        edited = message_payload(message_id=9995, content="tem cafeteira 110v?", conversation_id=995)
        edited["event"] = "message_updated"
        self.assertFalse(self._deliver(edited).json()["queued"])
        conversation = self._conversation(995)
        pending = conversation._pending_messages()
        plan = plan_burst(_burst(pending), now=time.time() + 60, window=30)
        messages = conversation._assistant_conversation(plan).messages
        self.assertEqual([message.text for message in messages], ["tem cafeteira 110v?"], "once, as edited")

    def test_the_url_token_never_reaches_the_log(self):
        logger = logging.getLogger("werkzeug")
        line = "POST /api/v1/chatwoot/webhook/s3cr3t-token?x=1 HTTP/1.1"
        record = logger.makeRecord("werkzeug", logging.INFO, __file__, 0, '"%s" %s %s', (line, "200", "-"), None)
        self.assertTrue(logger.filter(record), "the line is still logged")
        self.assertEqual(record.getMessage(), '"POST /api/v1/chatwoot/webhook/***?x=1 HTTP/1.1" 200 -')

    # ------------------------------------------------------------------ failures, job called directly
    # (not through _run_jobs' savepoint, which a retry rolls back: what the job commits in its own
    # transactions stays, as in a real queue_job run)

    def _one_message(self, conversation_id, text="boa tarde"):
        self._deliver(message_payload(message_id=conversation_id * 10, content=text, conversation_id=conversation_id))
        return self._conversation(conversation_id)

    @mute_logger("odoo_search_lib.chatwoot.client")
    def test_a_refused_first_part_releases_the_burst_for_the_retry(self):
        conversation = self._one_message(1100)
        self.chatwoot.fail_next(429, times=10, retry_after="0", action="messages")
        with self.assertRaises(RetryableJobError):
            conversation._job_reply()
        message = self.Log.search([("chatwoot_message_id", "=", 11000)])
        self.assertTrue(message.awaiting_reply, "released: the retry answers it")
        self.assertFalse(self.Log.search([("conversation_id", "=", conversation.id), ("kind", "=", "reply")]))
        self.assertEqual(conversation.answered_through, 0)
        self.chatwoot._failures.clear()
        conversation._job_reply()
        self.assertEqual(len(self.chatwoot.messages), 1)

    @mute_logger("odoo_search_lib.chatwoot.client", "odoo.addons.semantic_product_description.models.semantic_chatwoot")
    def test_a_failed_hand_over_leaves_the_status_as_chatwoot_has_it(self):
        conversation = self._one_message(1200)
        self.chatwoot.fail_next(502, action="messages")
        self.chatwoot.fail_next(500, times=10, action="toggle_status")
        conversation._job_reply()
        self.assertEqual((conversation.paused, conversation.pause_reason), (True, "reply_failed"))
        self.assertEqual(conversation.status, "pending", "Chatwoot never opened it")
        self.assertEqual(len(self.chatwoot.notes), 1, "the agents are told all the same")
        # the customer's next message (still pending in Chatwoot) is not a hand-back
        later = self._deliver(message_payload(message_id=12001, content="oi?", conversation_id=1200))
        self.assertEqual(later.json()["reason"], "bot_paused")

    @mute_logger("odoo.addons.semantic_product_description.models.semantic_chatwoot")
    def test_a_job_killed_after_its_claim_hands_over_when_it_runs_again(self):
        conversation = self._one_message(1300).with_context(job_uuid="job-1300")
        pending = conversation._pending_messages()
        plan = plan_burst(_burst(pending), now=time.time(), window=0)
        self.assertIsInstance(conversation._claim_burst(plan, pending, REPLY, ["Olá!"]), int)
        # ... the process died here; queue_job runs the same job again
        self.assertEqual(conversation._job_reply(), "interrupted earlier: handed over")
        self.assertEqual(self.chatwoot.messages, [], "nothing sent twice")
        self.assertEqual(self.chatwoot.statuses, [(1300, "open")])
        self.assertIn("interrupted", self.chatwoot.notes[0]["content"])
        self.assertEqual((conversation.paused, conversation.status), (True, "open"))
        reply = self.Log.search([("conversation_id", "=", conversation.id), ("kind", "=", "reply")])
        self.assertEqual(reply.decision, "stopped: interrupted")
        # another job (another uuid) finds nothing of it
        self.assertEqual(conversation.with_context(job_uuid="job-other")._job_reply(), "nothing to answer")


def _burst(pending):
    return [BurstMessage(m.chatwoot_message_id, m.received_at, m.content or "") for m in pending]
