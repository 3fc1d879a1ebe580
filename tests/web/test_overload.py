"""Idle, slow and vanishing clients hold nothing for long and flood no log: the server's
connection bounds (`server.idle_timeout`, `server.max_connections`), the body deadline
(`server.body_timeout`), and one short line for a client that goes away.

The load test with 10,000 idle connections against a real `surveybot run` is bench/idle_flood.py.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.app import Services
from bot.config import ServerConfig
from bot.web.app import create_web_app
from bot.web.server import build_server
from tests.conftest import ServicesFactory
from tests.fakes.live_server import bind_local_socket, url_of
from tests.fakes.plugin import slack_overrides
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import signed_headers
from tests.helpers import wait_until

SHORT_LINE = 200


def assert_short_lines_only(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert record.exc_info is None, record.getMessage()
        assert len(record.getMessage()) < SHORT_LINE, record.getMessage()


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@contextmanager
def bounded_server(**settings: Any) -> Iterator[str]:
    sock = bind_local_socket()
    server = build_server(hello, ServerConfig(**settings), host="127.0.0.1", port=0)
    server.config.lifespan = "off"
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, "the server to start", timeout=10)
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def closed_by_server(conn: socket.socket) -> bool:
    conn.setblocking(False)
    try:
        return conn.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def test_at_max_connections_a_new_client_is_served_and_the_oldest_idle_one_closed() -> None:
    with bounded_server(max_connections=5, idle_timeout="60s") as url:
        idle = [connect(url) for _ in range(5)]
        with httpx.Client() as client:
            for _ in range(3):
                assert client.get(url + "/healthz").text == "ok"
        wait_until(lambda: closed_by_server(idle[0]), "the oldest idle connection to be closed", timeout=10)
        assert not closed_by_server(idle[-1])
        for conn in idle:
            conn.close()


def test_a_connection_that_never_finishes_its_request_head_is_closed_after_idle_timeout() -> None:
    with bounded_server(idle_timeout="1s") as url:
        silent = connect(url)
        trickling = connect(url)
        trickling.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        wait_until(lambda: closed_by_server(silent), "the silent connection to be closed", timeout=10)
        wait_until(lambda: closed_by_server(trickling), "the trickling connection to be closed", timeout=10)
        with httpx.Client() as client:
            assert client.get(url + "/healthz").text == "ok"


def test_the_bounds_are_config_keys_with_safe_defaults() -> None:
    server = ServerConfig()
    assert (server.max_connections, server.idle_timeout, server.body_timeout) == (
        10_000,
        timedelta(seconds=15),
        timedelta(seconds=30),
    )
    with pytest.raises(ValueError, match="shorter than a second"):
        ServerConfig(idle_timeout="0s")


def asgi_post(app: Any, path: str, chunks: list[dict[str, Any]], *, stall: bool = False) -> list[dict]:
    """POST to the ASGI app directly: `chunks` are the receive() messages, then (with `stall`) a
    client that sends nothing more."""
    sent: list[dict[str, Any]] = []
    pending = list(chunks)

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        if stall:
            await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/x-www-form-urlencoded")],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }  # fmt: skip
    # in a thread of its own: an earlier test of the session may leave this thread's loop running
    raised: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(app(scope, receive, send))
        except BaseException as exc:  # handed to the test's thread
            raised.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    if raised:
        raise raised[0]
    return sent


def test_a_client_dropping_mid_body_leaves_one_short_line(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_web_app(services)
    caplog.set_level(logging.DEBUG)
    part = {"type": "http.request", "body": b"From=%2B1415555", "more_body": True}
    for path in ("/twilio/sms", "/twilio/status"):
        assert asgi_post(app, path, [part]) == []  # nobody left to answer
    went_away = [r for r in caplog.records if "went away" in r.getMessage()]
    assert len(went_away) == 2
    [start, _] = asgi_post(app, "/r/token", [part])  # FastAPI's own form parsing answers 400
    assert start["status"] == 400
    assert_short_lines_only(caplog)


def test_a_body_slower_than_body_timeout_gets_408(
    make_services: ServicesFactory, caplog: pytest.LogCaptureFixture
) -> None:
    services = make_services(server={"body_timeout": "1s"})
    app = create_web_app(services)
    part = {"type": "http.request", "body": b"From=%2B1415555", "more_body": True}
    sent = asgi_post(app, "/twilio/sms", [part], stall=True)
    assert sent[0]["status"] == 408
    assert b"server.body_timeout" in sent[1]["body"]
    assert_short_lines_only(caplog)


def test_a_non_utf8_body_to_slack_events_is_a_400_and_one_short_line(
    make_services: ServicesFactory, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    services = make_services(**slack_overrides(fake_slack))
    body = b"command=/surveybot&text=stats \xff\xfe\xc3"
    with TestClient(create_web_app(services)) as client:
        answer = client.post("/slack/events", content=body, headers=signed_headers(body.decode("latin-1")))
    assert answer.status_code == 400
    assert fake_slack.calls == []
    assert_short_lines_only(caplog)
