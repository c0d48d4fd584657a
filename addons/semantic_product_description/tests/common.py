# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Test utilities: an embedded store per test class, outbox draining, a fake LLM server, a webhook receiver."""

import json
import shutil
import socket
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from odoo import Command

from odoo_search_lib import WebhookVerificationError
from odoo_search_lib.webhooks import verify

from .. import search_registry
from ..models.semantic_search_service import PARAM_PREFIX


def free_port():
    """A local TCP port nothing listens on (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SemanticSearchTestMixin:
    """Mix into a TransactionCase/HttpCase; call ``_setup_semantic_search()`` from ``setUpClass``."""

    @classmethod
    def _setup_semantic_search(cls):
        cls.store_dir = tempfile.mkdtemp(prefix="semantic-search-test-")
        cls.addClassCleanup(shutil.rmtree, cls.store_dir, True)
        # the store must be closed (lock released) before its directory goes
        cls.addClassCleanup(search_registry.close, cls.env.cr.dbname)
        cls._set_params(
            store_mode="edge",
            store_path=cls.store_dir,
            language="en",
            description_writer="template",
            api_rate_limit="1000",
            search_max_limit="50",
        )
        # jobs queued at install time (the initial reindex) are not these tests' business
        cls.env["semantic.outbox"].search([("state", "in", ("pending", "failed"))]).write({"state": "done"})
        cls.service = cls.env["semantic.search.service"]
        cls.Outbox = cls.env["semantic.outbox"]
        cls.category = cls.env["product.category"].create(
            {"name": "Kitchen", "parent_id": cls.env.ref("product.product_category_all").id}
        )
        cls.color = cls.env["product.attribute"].create(
            {
                "name": "Colour",
                "value_ids": [Command.create({"name": "Red"}), Command.create({"name": "Blue"})],
            }
        )
        cls.material = cls.env["product.attribute"].create(
            {"name": "Material", "value_ids": [Command.create({"name": "Steel"})]}
        )
        cls.tag = cls.env["product.tag"].create({"name": "gift"})

    @classmethod
    def _set_params(cls, **values):
        params = cls.env["ir.config_parameter"].sudo()
        for key, value in values.items():
            params.set_param(PARAM_PREFIX + key, value)

    @classmethod
    def _create_product(cls, name, **values):
        vals = {
            "name": name,
            "categ_id": cls.category.id,
            "list_price": 49.9,
            "sale_ok": True,
            "attribute_line_ids": [
                Command.create({"attribute_id": cls.color.id, "value_ids": [Command.set(cls.color.value_ids.ids)]}),
                Command.create(
                    {"attribute_id": cls.material.id, "value_ids": [Command.set(cls.material.value_ids.ids)]}
                ),
            ],
            "product_tag_ids": [Command.set(cls.tag.ids)],
        }
        vals.update(values)
        return cls.env["product.template"].create(vals)

    @classmethod
    def _drain(cls, max_rounds=20):
        """Run the outbox cron method until nothing is due; returns the jobs handled."""
        handled = 0
        for _round in range(max_rounds):
            count = cls.env["semantic.outbox"]._cron_process()
            handled += count
            if not count:
                break
        return handled

    def _open_jobs(self, record, job_type=None):
        domain = [
            ("res_model", "=", record._name),
            ("res_id", "=", record.id),
            ("state", "in", ("pending", "failed")),
        ]
        if job_type:
            domain.append(("job_type", "=", job_type))
        return self.env["semantic.outbox"].search(domain)

    def _found_ids(self, query, **kwargs):
        result = self.service.search_products(query, **kwargs)
        return [self.service._parse_product_doc_id(hit.id) for hit in result.hits]


class _LocalServer:
    """Serves ``self.server`` in a thread while the ``with`` block runs."""

    def __init__(self):
        # a short poll interval lets shutdown() return at once
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class FakeLLMServer(_LocalServer):
    """An OpenAI-compatible ``/chat/completions`` endpoint answering a fixed description."""

    def __init__(self, description, keywords=("test",)):
        answer = {
            "choices": [
                {
                    "message": {"content": json.dumps({"description": description, "keywords": list(keywords)})},
                    "finish_reason": "stop",
                }
            ]
        }
        body = json.dumps(answer).encode("utf-8")
        self.requests = []
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length") or 0)
                requests.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        super().__init__()


class _ReceiverServer(ThreadingHTTPServer):
    # the cron sends from several threads: a backlog of 5 would drop connections (1 s SYN retry)
    request_queue_size = 64


class WebhookReceiver(_LocalServer):
    """A real HTTP receiver on 127.0.0.1 that verifies Standard Webhooks signatures.

    ``statuses`` are answered in turn (then ``default_status``); ``headers`` go with every
    answer. Every request is kept in ``requests`` as ``{"id", "headers", "body", "verified",
    "status"}``; ``processed`` lists the webhook-ids handled once each (a verified request
    answered 2xx whose id was not seen before), as a receiver that dedupes would.
    """

    def __init__(self, secret=None, statuses=(), default_status=200, headers=None):
        self.secret = secret
        self.statuses = list(statuses)
        self.default_status = default_status
        self.answer_headers = dict(headers or {})
        self.requests = []
        self.processed = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                status = receiver._answer(headers, body)
                answer = json.dumps({"status": status}).encode()
                self.send_response(status)
                for name, value in receiver.answer_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = _ReceiverServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/odoo"
        super().__init__()

    def _answer(self, headers, body):
        try:
            verify(self.secret, headers, body)
            verified = True
        except WebhookVerificationError:
            verified = False
        with self.lock:
            status = self.statuses.pop(0) if self.statuses else self.default_status
            if not verified:
                status = 401
            webhook_id = headers.get("webhook-id")
            self.requests.append(
                {"id": webhook_id, "headers": headers, "body": body, "verified": verified, "status": status}
            )
            if 200 <= status < 300 and webhook_id not in self.processed:
                self.processed.append(webhook_id)
        return status

    def events(self):
        """The JSON bodies of the verified requests, in arrival order."""
        return [json.loads(request["body"]) for request in self.requests if request["verified"]]


class WebhookTestMixin(SemanticSearchTestMixin):
    """Semantic search set-up plus webhook helpers; 127.0.0.1 is allow-listed."""

    @classmethod
    def _setup_webhooks(cls):
        cls._setup_semantic_search()
        cls._set_params(webhook_allowlist="127.0.0.1", webhook_timeout="5")
        cls.Endpoint = cls.env["semantic.webhook.endpoint"]
        cls.Delivery = cls.env["semantic.webhook.delivery"]

    def _receiver(self, **kwargs):
        """A started receiver, stopped at the end of the test."""
        receiver = WebhookReceiver(**kwargs)
        receiver.__enter__()
        self.addCleanup(receiver.__exit__, None, None, None)
        return receiver

    def _endpoint(self, receiver=None, url=None, events=None, **values):
        """An endpoint posting to ``receiver``, whose secret the receiver then verifies with."""
        vals = {"name": "Receiver", "url": url or receiver.url}
        if events is not None:
            vals["event_ids"] = [
                Command.set(self.env["semantic.webhook.event"].search([("code", "in", list(events))]).ids)
            ]
        vals.update(values)
        endpoint = self.Endpoint.create(vals)
        if receiver is not None:
            receiver.secret = endpoint.sudo().secret
        return endpoint

    def _deliveries(self, endpoint, **domain):
        return self.Delivery.search(
            [("endpoint_id", "=", endpoint.id)] + [(key, "=", value) for key, value in domain.items()], order="id"
        )

    def _make_due(self, deliveries):
        """Move the next attempt of waiting deliveries into the past (what time would do)."""
        for delivery in deliveries:
            if delivery.next_attempt_at:
                delivery.next_attempt_at = "2000-01-01 00:00:00"
