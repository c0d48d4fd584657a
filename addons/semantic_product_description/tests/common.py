# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Test utilities: an embedded store per test class, outbox draining, a fake LLM server."""

import json
import shutil
import socket
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from odoo import Command

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


class FakeLLMServer:
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
        # a short poll interval lets shutdown() return at once
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
