"""Serve an ASGI app for real on 127.0.0.1, so a browser (or any HTTP client) can reach it.

The socket is bound before the app is built, so the app can know its own URL (signed links
need it); uvicorn then serves on it from a thread until the block ends.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


def bind_local_socket() -> socket.socket:
    """A listening TCP socket on 127.0.0.1 with a free port; connections wait in its backlog."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


@contextmanager
def serving(app: Any, sock: socket.socket) -> Iterator[str]:
    """Run `app` on `sock` in a background thread; yields the base URL, stops on exit."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
