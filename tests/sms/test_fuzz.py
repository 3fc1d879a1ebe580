"""Whatever a phone sends, the webhook answers sensibly: never a 500, never a score off the scale."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sms.conftest import SmsWorld

REPLIES = st.one_of(
    st.text(max_size=300),
    st.from_regex(r"\s*-?\d{1,4}([.,/]\d)?\s*(out of|/)?\s*\w*.{0,40}", fullmatch=True),
    st.sampled_from(["STOP", " stop! ", "START", "HELP", "5️⃣", "🔟 great", "1️⃣0️⃣", "ten"]),
    st.sampled_from(["\uff10", "\u0665 good", "4\x00 nul inside", "5\r\nfine", "  3  "]),
    st.binary(max_size=60).map(lambda raw: raw.decode("latin-1")),
)
_numbers = itertools.count(1000)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(replies=st.lists(REPLIES, min_size=1, max_size=3))
def test_any_text_gets_an_answer_and_scores_stay_on_the_scale(world: SmsWorld, replies: list[str]) -> None:
    n = next(_numbers)
    phone = f"+1415555{n:04d}"
    world.survey(f"fuzz-{n}", contact=f"c{n}", details={"phone": phone})
    before = len(world.inbound())
    for body in replies:
        answer = world.text(body, from_=phone)
        assert answer.status == 200, answer.body
        assert answer.body.startswith("<?xml") and len(answer.texts) <= 1
    assert len(world.inbound()) == before + len(replies)
    assert all(1 <= response.score <= 5 for response in world.responses())
    assert all(1 <= heard.score <= 5 for heard in world.heard)


FIELD_NAMES = ["AccountSid", "ApiVersion", "Body", "ErrorCode", "From", "MessageSid", "MessageStatus",
               "NumMedia", "NumSegments", "SmsMessageSid", "SmsSid", "SmsStatus", "To"]  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=60),
    st.from_regex(r"(SM|MM)[0-9a-f]{32}", fullmatch=True),
    st.from_regex(r"(SM|MM)[0-9a-f]{32}.{1,12}", fullmatch=True),  # a re-cut SID
    st.sampled_from(["queued", "sent", "delivered", "undelivered", "failed", "read", "", "+14155550100"]),
)
FORMS = st.dictionaries(st.sampled_from(FIELD_NAMES), VALUES, max_size=len(FIELD_NAMES))
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/twilio/sms", "/twilio/status"]),
    form=FORMS,
    signed=st.booleans(),
    raw=st.one_of(st.none(), st.binary(max_size=200)),
)
def test_any_webhook_signed_or_not_gets_an_answer_never_a_5xx(
    world: SmsWorld, path: str, form: dict[str, str], signed: bool, raw: bytes | None
) -> None:
    before = (len(world.inbound()), len(world.responses()))
    if raw is not None:  # any bytes at all, unsigned
        answer = world.client.post(path, content=raw, headers=FORM)
        assert answer.status_code == 403, answer.text
    else:
        status = world.post(path, form, headers=None if signed else FORM).status
        assert status < 500
        if status >= 400:
            assert (len(world.inbound()), len(world.responses())) == before  # a refusal changes nothing
