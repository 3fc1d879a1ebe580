"""One HTTP request out, bounded in time and size, with the standard library's `http.client`.

(httpx is locked for the tests only; the service needs no more than this.) Every socket step,
connecting and each read, waits at most `timeout`; at most `ANSWER_MAX` bytes of an answer are
read. Redirects are not followed: a receiver that moved must be configured at its new URL.
"""

from __future__ import annotations

import http.client
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

ANSWER_MAX = 16 * 1024
USER_AGENT = "surveybot-webhooks/1"


@dataclass(frozen=True)
class HttpAnswer:
    """The receiver's answer, or why there was none (`status` None and `error` set)."""

    status: int | None
    text: str = ""
    retry_after: float | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def send_request(
    method: str, url: str, *, body: bytes, headers: dict[str, str], timeout: float
) -> HttpAnswer:
    """Send one request; never raises for a network failure (it is in `error`)."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.netloc, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.netloc, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **headers})
        answer = conn.getresponse()
        text = answer.read(ANSWER_MAX).decode("utf-8", "replace")
        return HttpAnswer(answer.status, text, _seconds(answer.getheader("Retry-After")))
    except TimeoutError:
        return HttpAnswer(None, error=f"no answer within {timeout:g}s")
    except (OSError, http.client.HTTPException) as exc:
        return HttpAnswer(None, error=f"{exc.__class__.__name__}: {exc}"[:300])
    finally:
        conn.close()


def _seconds(value: str | None) -> float | None:
    """A Retry-After given in seconds (the form Zendesk and most receivers use)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
