"""A local HTTP server that answers like Slack's Web API, for the real `slack_sdk.WebClient`.

    with FakeSlack(token="xoxb-test", channels={"cx-metrics": "C0CX"}) as slack:
        client = WebClient(token="xoxb-test", base_url=slack.url + "/api/")

Covers what surveybot uses: auth.test, chat.postMessage, chat.update, chat.postEphemeral,
conversations.list, conversations.join, and the three steps of `files_upload_v2`
(files.getUploadURLExternal, a POST of the bytes to the upload URL it returned,
files.completeUploadExternal). Every request is recorded as a `Call` (method, parameters from
the query string and the JSON or form body, the Authorization header) and counted per path.
A wrong token gets `invalid_auth`, an unknown channel `channel_not_found`, as Slack answers.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Call:
    method: str  # "chat.postMessage", or "upload" for the bytes sent to an upload URL
    params: dict[str, Any]
    authorization: str | None
    body: bytes = b""


@dataclass
class Upload:
    file_id: str
    filename: str
    length: int
    data: bytes | None = None
    title: str | None = None
    channel: str | None = None
    initial_comment: str | None = None


@dataclass
class FakeSlack:
    token: str = "xoxb-test-token"
    channels: dict[str, str] = field(default_factory=lambda: {"general": "C0GENERAL"})
    calls: list[Call] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    uploads: dict[str, Upload] = field(default_factory=dict)
    url: str = ""

    def __enter__(self) -> FakeSlack:
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    # --- the API --------------------------------------------------------------------------

    def answer(self, method: str, params: dict[str, Any], authorization: str | None) -> dict:
        if authorization != f"Bearer {self.token}":
            return {"ok": False, "error": "not_authed" if not authorization else "invalid_auth"}
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        result: dict[str, Any] = handler(params)
        return result

    def _next(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}{next(self._ids):06d}"

    def _channel_id(self, name: str | None) -> str | None:
        if not name:
            return None
        name = name.lstrip("#")
        return name if name in self.channels.values() else self.channels.get(name)

    def _auth_test(self, params: dict[str, Any]) -> dict:
        return {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "surveybot",
                "team_id": "T0FAKE", "user_id": "U0BOT", "bot_id": "B0BOT"}  # fmt: skip

    def _chat_postMessage(self, params: dict[str, Any]) -> dict:
        channel = self._channel_id(params.get("channel"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        message = {"type": "message", "text": params.get("text", ""), "ts": self._ts()}
        if "blocks" in params:
            message["blocks"] = params["blocks"]
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _chat_update(self, params: dict[str, Any]) -> dict:
        channel = self._channel_id(params.get("channel"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": channel, "ts": params.get("ts"), "text": params.get("text")}

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict:
        if self._channel_id(params.get("channel")) is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "message_ts": self._ts()}

    def _conversations_list(self, params: dict[str, Any]) -> dict:
        channels = [{"id": cid, "name": name, "is_member": True} for name, cid in self.channels.items()]
        return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}

    def _conversations_join(self, params: dict[str, Any]) -> dict:
        channel = self._channel_id(params.get("channel"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": channel}}

    def _files_getUploadURLExternal(self, params: dict[str, Any]) -> dict:
        if not params.get("filename") or not str(params.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = self._next("F")
        self.uploads[file_id] = Upload(file_id, params["filename"], int(params["length"]))
        return {"ok": True, "upload_url": f"{self.url}/upload/v1/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, params: dict[str, Any]) -> dict:
        files = json.loads(params.get("files", "[]"))
        channel = params.get("channel_id")
        if channel and channel not in self.channels.values():
            return {"ok": False, "error": "channel_not_found"}
        done = []
        for item in files:
            upload = self.uploads.get(item.get("id"))
            if upload is None or upload.data is None:
                return {"ok": False, "error": "file_not_found"}
            upload.title, upload.channel = item.get("title"), channel
            upload.initial_comment = params.get("initial_comment")
            done.append({"id": upload.file_id, "name": upload.filename, "title": upload.title})
        return {"ok": True, "files": done}

    def receive_upload(self, file_id: str, data: bytes) -> tuple[int, str]:
        upload = self.uploads.get(file_id)
        if upload is None:
            return 404, "Not Found"
        upload.data = data
        return 200, f"OK - {len(data)}"

    def _ts(self) -> str:
        return f"1700000000.{self._next('')}"


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            auth = self.headers.get("Authorization")
            with fake._lock:
                fake.counts[parts.path] += 1
            if parts.path.startswith("/upload/v1/"):
                file_id = parts.path.rsplit("/", 1)[1]
                fake.calls.append(Call("upload", {"file_id": file_id}, auth, body))
                status, text = fake.receive_upload(file_id, body)
                return self._reply(status, text.encode(), "text/plain")
            method = parts.path.removeprefix("/api/")
            params = dict(parse_qsl(parts.query)) | self._parse(body)
            fake.calls.append(Call(method, params, auth, body))
            answer = fake.answer(method, params, auth)
            self._reply(200, json.dumps(answer).encode(), "application/json")

        do_GET = do_POST

        def _parse(self, body: bytes) -> dict[str, Any]:
            kind = self.headers.get("Content-Type", "")
            if kind.startswith("application/json"):
                parsed: dict[str, Any] = json.loads(body or b"{}")
                return parsed
            params: dict[str, Any] = dict(parse_qsl(body.decode()))
            if isinstance(params.get("blocks"), str):
                params["blocks"] = json.loads(params["blocks"])  # form posts carry JSON text
            return params

        def _reply(self, status: int, payload: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: object) -> None:
            pass  # keep test output quiet

    return Handler
