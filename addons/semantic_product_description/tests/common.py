# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Test utilities: an embedded store per test class, job running, a fake LLM server, a webhook receiver."""

import json
import logging
import shutil
import socket
import tempfile
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from odoo import Command, fields

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job

from odoo_search_lib import WebhookVerificationError
from odoo_search_lib.webhooks import verify

from .. import search_registry
from ..models.semantic_search_service import PARAM_PREFIX

_logger = logging.getLogger(__name__)

#: Job states in which a job still has work to do.
WAITING = ("wait_dependencies", "pending", "enqueued", "started")


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
        # jobs queued at install time (the initial rebuild) are not these tests' business
        cls.env["queue.job"].search([("channel", "=like", "root.semantic%"), ("state", "in", WAITING)]).write(
            {"state": "cancelled"}
        )
        cls.env["semantic.reindex.run"].search([("state", "in", ("queued", "running"))]).write({"state": "cancelled"})
        cls.service = cls.env["semantic.search.service"]
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
    def _semantic_jobs(cls, states=WAITING, **domain):
        return cls.env["queue.job"].search(
            [("channel", "=like", "root.semantic%"), ("state", "in", states)]
            + [(key, "=", value) for key, value in domain.items()],
            order="id",
        )

    @classmethod
    def _run_jobs(cls, max_rounds=30):
        """Perform the due semantic jobs as queue_job's runner does, in the test transaction.

        Each job goes through queue_job's own ``Job`` API: started, performed in a savepoint
        (rolled back on failure, as the runner's transaction is), then done, postponed on a
        ``RetryableJobError`` or failed; jobs waiting for it (a rebuild's publish) are released.
        Returns the number of attempts made.
        """
        env = cls.env
        attempts = 0
        for _round in range(max_rounds):
            env.flush_all()
            due = cls._semantic_jobs(states=("pending", "enqueued")).filtered(
                lambda job: not job.eta or job.eta <= fields.Datetime.now()
            )
            if not due:
                break
            for record in due:
                job = Job.load(env, record.uuid)
                job.set_started()
                job.store()
                attempts += 1
                try:
                    with env.cr.savepoint():
                        job.perform()
                        env.flush_all()
                except RetryableJobError as err:
                    job.postpone(result=str(err), seconds=err.seconds)
                    job.set_pending(reset_retry=False)
                    job.store()
                except Exception as exc:  # noqa: BLE001 - recorded on the job, as the runner does
                    _logger.info("Job %s failed: %s", record.method_name, exc)
                    job.set_failed(exc_info=traceback.format_exc(), exc_name=type(exc).__name__, exc_message=str(exc))
                    job.store()
                else:
                    job.set_done()
                    job.store()
                    env.flush_all()  # enqueue_waiting() reads the parents' states in SQL
                    job.enqueue_waiting()
                env.invalidate_all()
        return attempts

    @classmethod
    def _make_due(cls, jobs=None):
        """Move postponed jobs' next attempt into the past (what time would do)."""
        jobs = cls._semantic_jobs(states=("pending",)) if jobs is None else jobs
        jobs.write({"eta": False})

    def _sync_jobs(self, record):
        """The waiting sync jobs that name ``record``."""
        return self._semantic_jobs(method_name="_semantic_job_sync").filtered(lambda job: record.id in job.records.ids)

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

    def _make_deliveries_due(self, deliveries):
        """Move the next attempt of waiting deliveries into the past (what time would do)."""
        self._make_due(deliveries.job_id.filtered(lambda job: job.state == "pending"))
