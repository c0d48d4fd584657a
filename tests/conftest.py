"""Shared pytest fixtures for the library tests (no Odoo here)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.localhttp import Handler, LocalServer


@pytest.fixture
def local_server() -> Iterator[Callable[[Handler], LocalServer]]:
    """Start real HTTP servers on 127.0.0.1; all are closed after the test."""
    servers: list[LocalServer] = []

    def start(handler: Handler) -> LocalServer:
        server = LocalServer(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
