"""The HTTP server, uvicorn, with bounds on what idle and slow clients can hold: the one module
that imports uvicorn.

Every connection costs a file descriptor; a process out of them answers nobody, health checks
included. So, from `server.*` in the config:

- `idle_timeout`: a connection with no request in progress (just opened, or kept alive after
  an answer) must deliver a whole request head within it, or it is closed. uvicorn's own
  keep-alive timer restarts at every byte received, and a fresh connection has none at all, so
  a client sending nothing, or a header a byte at a time, would be held for ever.
- `max_connections`: past it, a new connection closes the oldest idle one (none idle: the new
  one is closed). A flood of idle connections thus never locks out a health check or an event.
  uvicorn's `limit_concurrency` is not used: it counts idle connections too, and once they fill
  it every request, `/healthz` included, gets 503.
- `body_timeout` (the whole body must arrive within it) is `bot.web.limits.BodyLimit`'s.

At start the soft limit of open files is raised to the hard limit, with a warning when even
that is below what `max_connections` needs.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections import OrderedDict
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from bot.config import ServerConfig

log = logging.getLogger(__name__)

FD_RESERVE = 256  # the database pool, log files, the scheduler, Slack: beside the connections
REPORT_EVERY = 60.0  # seconds between two lines about connections closed at the limit


class BoundedHttp(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol with the idle deadline and the connection limit. One subclass
    per server (`bounded_protocol`): the idle connections, oldest first, are the class's."""

    idle_timeout: ClassVar[float]
    max_connections: ClassVar[int]
    idle: ClassVar[OrderedDict[BoundedHttp, None]]
    shed: ClassVar[list[float]]  # [connections closed since the last report, time of that report]

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.idle_timer: asyncio.TimerHandle | None = None
        if len(self.connections) > self.max_connections and not self._close_oldest_idle():
            self._note_shed()
            transport.close()
            return
        self._become_idle()

    def on_headers_complete(self) -> None:
        self.idle.pop(self, None)
        self._stop_idle_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self._become_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.idle.pop(self, None)
        self._stop_idle_timer()
        super().connection_lost(exc)

    def _become_idle(self) -> None:
        self.idle[self] = None
        self.idle.move_to_end(self)
        self._stop_idle_timer()
        self.idle_timer = self.loop.call_later(self.idle_timeout, self._close_if_idle)

    def _close_if_idle(self) -> None:
        if self in self.idle:
            self.idle.pop(self)
            self.transport.close()

    def _stop_idle_timer(self) -> None:
        timer = getattr(self, "idle_timer", None)
        if timer is not None:
            timer.cancel()
            self.idle_timer = None

    def _close_oldest_idle(self) -> bool:
        if not self.idle:
            return False
        oldest, _ = self.idle.popitem(last=False)
        oldest.transport.close()
        self._note_shed()
        return True

    def _note_shed(self) -> None:
        self.shed[0] += 1
        now = self.loop.time()
        if now - self.shed[1] >= REPORT_EVERY:
            log.warning(
                "at server.max_connections (%d): closed %d connections since the last report",
                self.max_connections, int(self.shed[0]),
            )  # fmt: skip
            self.shed[:] = [0, now]


def bounded_protocol(server: ServerConfig) -> type[BoundedHttp]:
    """A protocol class carrying this server's bounds and its own list of idle connections."""
    attributes: dict[str, Any] = {
        "idle_timeout": server.idle_timeout.total_seconds(),
        "max_connections": server.max_connections,
        "idle": OrderedDict(),
        "shed": [0, float("-inf")],
    }
    return type("ServerHttp", (BoundedHttp,), attributes)


def build_server(app: Any, server: ServerConfig, *, host: str, port: int) -> uvicorn.Server:
    raise_open_file_limit(server.max_connections)
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False, server_header=False,
        http=bounded_protocol(server), timeout_keep_alive=max(1, int(server.idle_timeout.total_seconds())),
    )  # fmt: skip
    return uvicorn.Server(config)


def raise_open_file_limit(max_connections: int) -> int:
    """Raise the soft limit of open files to the hard one; returns it. Warns when it is below
    what `max_connections` needs."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, max_connections + FD_RESERVE)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):  # e.g. macOS caps the soft limit below an unlimited hard one
            pass
    if soft < max_connections + FD_RESERVE:
        log.warning(
            "open files are limited to %d, below server.max_connections (%d) + %d: raise the limit "
            "(ulimit -n, LimitNOFILE=) or lower server.max_connections",
            soft, max_connections, FD_RESERVE,
        )  # fmt: skip
    return soft
