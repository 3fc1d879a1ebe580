"""The `webhooks:` and `writeback:` sections of config.yaml (SPEC §10, "Data out")."""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from triggers.settings import Duration, Section

EventType = Literal[
    "response.created",
    "response.updated",
    "alert.created",
    "alert.claimed",
    "alert.resolved",
    "contact.opted_out",
    "send.failed",
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]
ALL_EVENTS: list[EventType] = list(EVENT_TYPES)  # type: ignore[arg-type]
MAX_TIMEOUT = timedelta(seconds=60)


def _http_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{url!r} is not an absolute http(s) URL like https://crm.example.com/hooks")
    return url.rstrip("/") if parts.path in ("", "/") else url


def _bounded(value: timedelta) -> timedelta:
    if not timedelta(seconds=1) <= value <= MAX_TIMEOUT:
        raise ValueError("must be between 1s and 60s, so a slow receiver cannot hold the worker")
    return value


class WebhookConfig(Section):
    """One receiver of Standard Webhooks: signed with `secret`, sent the `events` listed."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    url: str
    secret: str
    events: list[EventType] = Field(default_factory=lambda: list(ALL_EVENTS), min_length=1)
    timeout: Duration = timedelta(seconds=10)

    _url = field_validator("url")(_http_url)
    _timeout = field_validator("timeout", mode="after")(_bounded)

    @field_validator("secret")
    @classmethod
    def _base64_secret(cls, secret: str) -> str:
        raw = secret.strip().removeprefix("whsec_")
        try:
            key = base64.b64decode(raw + "==", validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) < 16:
            raise ValueError(
                "is not a Standard Webhooks secret: whsec_ and at least 16 bytes in base64 "
                "(make one: echo whsec_$(openssl rand -base64 24))"
            )
        return secret.strip()


class ZendeskWritebackConfig(Section):
    """Tag the ticket and add an internal note when a response arrives (Zendesk's REST API)."""

    subdomain: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]*$")
    email: str = Field(min_length=3, pattern=r"^[^@\s]+@[^@\s]+$")
    api_token: str = Field(min_length=1)
    ticket_id: str | None = None  # a path into the event, for events that are not a Zendesk source's
    api_base_url: str | None = None  # a stand-in for https://{subdomain}.zendesk.com (tests)
    tags: list[str] = Field(default_factory=lambda: ["surveybot"])
    timeout: Duration = timedelta(seconds=10)

    _timeout = field_validator("timeout", mode="after")(_bounded)

    @field_validator("api_base_url")
    @classmethod
    def _base_url(cls, url: str | None) -> str | None:
        return None if url is None else _http_url(url).rstrip("/")

    @field_validator("tags")
    @classmethod
    def _tag_words(cls, tags: list[str]) -> list[str]:
        for tag in tags:
            if not tag or any(c.isspace() for c in tag):
                raise ValueError(f"{tag!r} is not a Zendesk tag: one word, no spaces")
        return tags

    @property
    def base_url(self) -> str:
        return self.api_base_url or f"https://{self.subdomain}.zendesk.com"


class WritebackConfig(Section):
    zendesk: ZendeskWritebackConfig | None = None


def outbound_problems(webhooks: list[WebhookConfig], writeback: WritebackConfig) -> list[str]:
    """Problems of the two sections that one field alone cannot show."""
    from triggers.paths import path_problem

    problems: list[str] = []
    names = [hook.name for hook in webhooks]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"webhooks: the name {name!r} is used twice; names are unique")
    if "zendesk" in names and writeback.zendesk:
        problems.append("webhooks: the name 'zendesk' is taken by writeback.zendesk; choose another")
    zendesk = writeback.zendesk
    if zendesk and zendesk.ticket_id and (problem := path_problem(zendesk.ticket_id)):
        problems.append(f"writeback.zendesk.ticket_id: {problem}")
    return problems
