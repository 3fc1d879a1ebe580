"""`surveybot run`: the web server and the background jobs in one process, stopped cleanly."""

from __future__ import annotations

import logging
import signal
import socket
from types import FrameType
from typing import Any

from bot.app import Services, build_services, start_background, stop_background
from bot.cli.commands import open_database
from bot.config import Config
from bot.errors import PortInUse
from bot.metrics.rollups import sync_rollups
from bot.runtime.heap import settle_after_start
from bot.texts import messages
from bot.web.app import create_web_app
from bot.web.server import build_server
from storage.db import hide_password

log = logging.getLogger("surveybot")


def serve(config: Config, *, host: str, port: int, migrate: bool = False) -> int:
    """Serve until SIGTERM or SIGINT; in-flight work finishes, claims are given back; exit 0.

    The port is taken first, before anything starts: `PortInUse` when another process has it."""
    listening = _listen(host, port)
    try:
        services = build_services(config, db=open_database(config, migrate=migrate))
        synced = sync_rollups(services.db, config, services.clock)
    except BaseException:
        listening.close()
        raise
    if synced.added or synced.dropped:
        log.info(messages.rollups_synced(synced.added, synced.dropped))
    if not config.server.api_keys:
        log.warning(messages.NO_API_KEYS)
    app = create_web_app(services)
    start_background(services)
    socket_mode = _connect_socket_mode(services)
    server = build_server(app, config.server, host=host, port=port)
    log.info(messages.serving(host, port, hide_password(config.storage.url)))
    # uvicorn handles SIGTERM/SIGINT by shutting down gracefully, then raises the signal again
    # under the handlers it found; these make that second delivery a no-op, so we exit 0.
    signal.signal(signal.SIGTERM, _already_handled)
    signal.signal(signal.SIGINT, _already_handled)
    settle_after_start()
    try:
        server.run(sockets=[listening])
    finally:
        if socket_mode is not None:
            socket_mode.close()
        stop_background(services)
        services.close()
        listening.close()
    log.info("surveybot stopped")
    return 0 if server.started else 1


def _listen(host: str, port: int) -> socket.socket:
    """The bound socket uvicorn will serve on, set up as uvicorn binds its own."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise PortInUse(messages.port_in_use(host, port, exc.strerror or str(exc))) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise PortInUse(messages.port_in_use(host, port, exc.strerror or str(exc))) from None
    sock.set_inheritable(True)
    return sock


def _connect_socket_mode(services: Services) -> Any:
    """With `slack.app_token`, Slack's requests come over a WebSocket instead of HTTP."""
    token = services.config.slack.app_token
    if services.slack is None or not token:
        return None
    from bot.slack.app import socket_mode_handler

    handler = socket_mode_handler(services.slack, token)
    handler.connect()
    log.info(messages.SOCKET_MODE)
    return handler


def _already_handled(signum: int, frame: FrameType | None) -> None:
    log.debug("signal %d after shutdown", signum)
