"""A local server that answers like Zendesk's Tickets API for `PUT /api/v2/tickets/{id}.json`.

It checks API-token auth as Zendesk does (`Authorization: Basic base64(email/token:api_token)`:
401 `{"error": "Couldn't authenticate you"}` otherwise), answers 404 `RecordNotFound` for a
ticket it does not have, and applies a ticket update: `comment` becomes a new comment (public or
an internal note), `additional_tags` are added to the ticket's tags, as Zendesk documents.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TICKET_PATH = re.compile(r"^/api/v2/tickets/(\d+)(?:\.json)?$")


@dataclass
class FakeZendesk:
    email: str = "agent@acme.example"
    api_token: str = "zd-token"
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)  # method, path, auth
    url: str = ""

    def __enter__(self) -> FakeZendesk:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_ticket(self, ticket_id: int, tags: list[str] | None = None) -> None:
        self.tickets[ticket_id] = {"id": ticket_id, "tags": list(tags or []), "comments": []}

    def authorized(self, header: str | None) -> bool:
        login = f"{self.email}/token:{self.api_token}".encode()
        return header == "Basic " + base64.b64encode(login).decode()

    def update(self, method: str, path: str, auth: str | None, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append((method, path, auth))
            match = TICKET_PATH.match(path)
            if method != "PUT" or not match:
                return 404, {"error": "InvalidEndpoint", "description": "Not found"}
            if not self.authorized(auth):
                return 401, {"error": "Couldn't authenticate you"}
            ticket = self.tickets.get(int(match.group(1)))
            if ticket is None:
                return 404, {"error": "RecordNotFound", "description": "Not found"}
            update = json.loads(body)["ticket"]
            if comment := update.get("comment"):
                ticket["comments"].append({"body": comment["body"], "public": comment.get("public", True)})
            for tag in update.get("additional_tags", []):
                if tag not in ticket["tags"]:
                    ticket["tags"].append(tag)
            shown = {k: v for k, v in ticket.items() if k != "comments"}
            return 200, {"ticket": shown, "audit": {"ticket_id": ticket["id"], "events": []}}


def _handler(fake: FakeZendesk) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, answer = fake.update("PUT", self.path, self.headers.get("Authorization"), body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: object) -> None:
            pass

    return Handler
