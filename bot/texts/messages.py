"""Every text surveybot says to a person through the API or the terminal, in one place.

Survey texts themselves come from the config's templates; SMS and Slack texts have modules of
their own beside their channels.
"""

from __future__ import annotations

from collections.abc import Mapping

API_KEY_REJECTED = (
    "missing or wrong API key: send the header 'Authorization: Bearer <key>' "
    "with a key listed in server.api_keys"
)
EVENTS_NOT_A_LIST = '"events" must be a JSON array of event objects'
STORAGE_UNAVAILABLE = "the database is unreachable just now; nothing was stored: send the events again"
BODY_NOT_AN_EVENT = 'the body must be one event object, or {"events": [...]}'


def body_too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes (server.max_body_bytes); send smaller batches"


def request_too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


def body_too_slow(seconds: float) -> str:
    return f"the request body did not arrive within {seconds:g} seconds (server.body_timeout)"


def batch_too_large(count: int, limit: int) -> str:
    return f"a batch holds at most {limit} events; this one has {count}: split it"


def invalid_json(detail: str) -> str:
    return f"the body is not valid JSON ({detail})"


NO_API_KEYS = (
    "no API key is configured (server.api_keys): POST /v1/events answers 401 to everyone. "
    "Set SURVEYBOT_API_KEY, or use `surveybot emit` and `surveybot import`."
)


def api_key_lacks_scope(scope: str, method: str, path: str) -> str:
    return (
        f"this API key may not {method} {path}: it needs the {scope!r} scope. In server.api_keys, "
        f"give the key as {{key: ..., scopes: [{scope}]}} (a plain string is an ingest key)"
    )


def exported(count: int, kind: str, path: str | None) -> str:
    what = kind if count != 1 else kind.removesuffix("s")
    return f"{count} {what} exported" + (f" to {path}" if path else "")


STORAGE_UNAVAILABLE_READ = "the database is unreachable just now: ask again"
BAD_CURSOR = "cursor: not a cursor this API gave out; pass next_cursor from the previous page as it was"


def bad_limit(given: str, most: int) -> str:
    return f"limit: {given!r} is not a whole number from 1 to {most}"


def bad_since(given: str) -> str:
    return f"since: {given!r} is not an ISO 8601 time like 2026-11-22T10:00:00Z"


def api_key_padded(index: int) -> str:
    return (
        f"server.api_keys[{index}] had whitespace around it (a newline at the end of a secrets "
        "file?); it was stripped: clients must send the key without it"
    )


def config_ok(surveys: int, triggers: int, digests: int) -> str:
    return f"config OK: {surveys} surveys, {triggers} triggers, {digests} digests"


def config_problems(count: int) -> str:
    return f"the config has {count} problem{'s' if count != 1 else ''}:"


def serving(host: str, port: int, storage: str) -> str:
    return f"surveybot listening on http://{host}:{port} (storage: {storage})"


def sms_longer_than_one_segment(path: str, segments: int, encoding: str, length: int) -> str:
    per_segment = 160 if encoding == "GSM-7" else 70
    return (
        f"{path}: for an example contact this SMS is {length} characters, {segments} segments "
        f"in {encoding} (one holds {per_segment}); each segment is billed as one message"
    )


def sms_does_not_render(path: str, detail: str) -> str:
    return f"{path}: does not render for an example contact ({detail})"


def config_warnings(count: int) -> str:
    return f"{count} warning{'s' if count != 1 else ''}:"


SOCKET_MODE = "Slack: connected over Socket Mode (slack.app_token)"
NO_SLACK = "Slack is not configured: set slack.bot_token (and slack.signing_secret) in the config"


def unknown_digest(name: str, known: list[str]) -> str:
    return f"no digest named {name!r} in the config (known: {', '.join(known) or 'none'})"


def digest_posted(name: str, channel: str, ts: str) -> str:
    return f"digest {name} posted to {channel} (ts {ts})"


def chart_saved(path: str) -> str:
    return f"chart saved to {path}"


def slack_refused(error: str) -> str:
    return f"Slack refused the post: {error}"


ERASED_KINDS = {
    "contacts": "contact (email, phone, name)",
    "send_addresses": "send addresses",
    "event_properties": "events' properties",
    "comments": "comments",
    "sms_messages": "SMS messages",
    "pending_sends_cancelled": "pending sends cancelled",
    "slack_alerts_redrawn": "Slack alerts redrawn without the erased data",
}


def forgotten(contact_ids: list[str], erased: dict[str, int]) -> str:
    who = ", ".join(contact_ids) if contact_ids else "no contact (messages from the address only)"
    lines = [f"erased the personal data of {who}:"]
    lines += [f"  {count:>6}  {ERASED_KINDS.get(kind, kind)}" for kind, count in erased.items()]
    if not any(erased.values()):
        lines.append("  nothing was left to erase (already forgotten)")
    return "\n".join(lines)


def nothing_stored_for(what: str) -> str:
    return f"nothing is stored for {what}: no contact, send or message has it"


FORGET_NEEDS_WHOM = "give a CONTACT_ID, or --phone or --email to find the contact by address"


def test_sent(send_id: str, channel: str, to: str, status: str, reason: str | None) -> str:
    detail = f" ({reason})" if reason else ""
    return f"test send {send_id}: {channel} to {to}: {status}{detail}"


def test_next_steps(contact_id: str, channel: str, to: str, outbox: str | None) -> str:
    lines = []
    if outbox:
        lines.append(f"  the message is in {outbox}")
    if channel in ("sms", "whatsapp"):
        by = " --whatsapp" if channel == "whatsapp" else ""
        lines.append(f"  answer it:  surveybot reply{by} --from {to} 4")
    else:
        lines.append("  answer it: open one of its rating links (surveybot run must be serving)")
    lines.append(f"  then see:   surveybot explain {contact_id}")
    return "\n".join(lines)


def no_question_for(survey: str, channel: str) -> str:
    return f"survey {survey!r} has no question.{channel}: give an address of another kind, or --channel"


def unknown_survey(name: str, known: list[str]) -> str:
    return f"{name!r} is not a survey in the config; the surveys are: {', '.join(sorted(known)) or 'none'}"


NO_ANSWER = "(no answer: surveybot says nothing back to this message)"


def port_in_use(host: str, port: int, reason: str) -> str:
    return (
        f"cannot listen on {host}:{port} ({reason}): another process (another surveybot?) has it; "
        "stop it, or choose another port with --port"
    )


def no_config(path: str) -> str:
    return (
        f"no config at {path}: give one with --config PATH or SURVEYBOT_CONFIG, "
        "or write the commented starter config here with `surveybot init`"
    )


def config_written(path: str) -> str:
    return (
        f"wrote {path}: it runs as it is (SQLite, messages to outbox/); "
        "check a change with `surveybot check-config`"
    )


def config_exists(path: str) -> str:
    return f"{path} already exists: nothing written (--force replaces it)"


def invalid_rows(invalid: int, total: int, command: str) -> str:
    others = "the others were imported" if command == "import" else "the replay left them out"
    return f"{invalid} of {total} events were invalid (lines above); {others}"


def method_not_allowed(method: str, path: str, headers: Mapping[str, str]) -> str:
    allowed = headers.get("allow") or headers.get("Allow") or ""
    return f"{method} is not allowed on {path[:200]}: use {allowed or 'another method'}"


def no_such_path(path: str) -> str:
    return f"no such path: {path[:200]} (the API is described at /openapi.json)"


def no_failed_message(message_id: str) -> str:
    return (
        f"no failed message {message_id[:100]!r}: `surveybot webhooks --failed` lists them "
        "(a pending one is still being retried; a delivered or dropped one is done)"
    )


def retry_queued(message_id: str, target: str) -> str:
    return f"{message_id} to {target} queued again: `surveybot run` sends it within a second"


def rollups_synced(added: list[str], dropped: list[str]) -> str:
    parts = [
        f"built for {', '.join(added)}" if added else "",
        f"dropped for {', '.join(dropped)}" if dropped else "",
    ]
    return "metric rollups " + "; ".join(p for p in parts if p)


def rollups_rebuilt(rows: int, added: list[str], dropped: list[str]) -> str:
    text = f"rollups rebuilt (metrics, sends, holds, themes): {rows} rows"
    if added or dropped:
        text += f" ({rollups_synced(added, dropped)})"
    return text
