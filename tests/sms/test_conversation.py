"""The survey by SMS as the customer lives it: the question arrives through Twilio, replies
come back as signed webhooks, and the answers land where the metrics read them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.texts import sms as sms_texts
from tests.fakes.twilio_api import ACCOUNT_SID
from tests.sms.conftest import FROM_NUMBER, PHONE, PUBLIC_URL, SmsWorld, WorldFactory, new_sid

SERVICE_SID = "MG" + "c3" * 16


@pytest.mark.parametrize("sender", ["from", "messaging_service_sid"])
def test_the_survey_goes_out_through_twilio(make_world: WorldFactory, sender: str) -> None:
    settings = (
        {"from": FROM_NUMBER} if sender == "from" else {"from": None, "messaging_service_sid": SERVICE_SID}
    )
    world = make_world(sms=settings)
    send = world.survey(properties={"ticket_id": "T-7"})

    [message] = world.fake.messages
    assert message["to"] == PHONE and message["account_sid"] == ACCOUNT_SID
    assert message["body"] == "Hi Ada, rate ticket T-7 1-5"
    if sender == "from":
        assert (message["from"], message["messaging_service_sid"]) == (FROM_NUMBER, None)
    else:
        assert (message["from"], message["messaging_service_sid"]) == (None, SERVICE_SID)
    assert message["status_callback"] == f"{PUBLIC_URL}/twilio/status"
    assert (send.status, send.provider_message_id) == ("sent", message["sid"])


def test_a_score_with_words_is_the_score_and_the_comment(world: SmsWorld) -> None:
    send = world.survey()
    answer = world.text("4 - quick but a bit rude")

    assert (answer.status, answer.texts) == (200, [sms_texts.thanks()])
    [response] = world.responses()
    assert (response.send_id, response.score, response.comment, response.counted) == (
        send.id, 4, "quick but a bit rude", True,
    )  # fmt: skip
    assert world.send(send.id).reply_state == "done"
    assert [(m.kind, m.send_id, m.body) for m in world.inbound()] == [
        ("score", send.id, "4 - quick but a bit rude")
    ]
    assert [(h.score, h.comment, h.counted) for h in world.heard] == [(4, "quick but a bit rude", True)]


def test_a_bare_score_gets_the_follow_up_and_the_next_reply_is_the_comment(world: SmsWorld) -> None:
    send = world.survey()
    asked = world.text("five")
    assert asked.texts == ["Thanks Ada! What is the main reason for your score?"]
    [response] = world.responses()
    assert (response.score, response.comment) == (5, None)

    thanked = world.text("3 days to answer, but then Sam fixed it")
    assert thanked.texts == [sms_texts.thanks()]
    [response] = world.responses()
    assert (response.score, response.comment) == (5, "3 days to answer, but then Sam fixed it")
    assert world.send(send.id).reply_state == "done"
    assert [m.kind for m in world.inbound()] == ["score", "comment"]
    assert [(h.score, h.comment) for h in world.heard] == [
        (5, None),
        (5, "3 days to answer, but then Sam fixed it"),
    ]


def test_a_reply_without_a_score_is_asked_again_once(world: SmsWorld) -> None:
    world.survey()
    first = world.text("what is this?")
    assert first.texts == [sms_texts.reprompt((1, 5))]
    second = world.text("hmm")
    assert (second.status, second.texts) == (200, [])
    assert world.responses() == []
    assert [m.kind for m in world.inbound()] == ["reprompt", "extra"]


def test_a_score_after_the_reprompt_counts(world: SmsWorld) -> None:
    world.survey()
    world.text("ok")
    world.text("2 stars")
    [response] = world.responses()
    assert (response.score, response.counted) == (2, True)


def test_help_gets_the_help_text_and_changes_nothing(world: SmsWorld) -> None:
    send = world.survey()
    answer = world.text("HELP")
    assert answer.texts == [sms_texts.help_text()]
    assert world.send(send.id).reply_state is None
    world.text("4")
    assert [r.score for r in world.responses()] == [4]
    assert [m.kind for m in world.inbound()] == ["help", "score"]


def test_a_text_with_no_open_survey_is_answered_politely_and_kept(world: SmsWorld) -> None:
    answer = world.text("hello? who is this", from_="+14155559999")
    assert answer.texts == [sms_texts.no_open_survey()]
    [message] = world.inbound()
    assert (message.kind, message.send_id, message.from_address, message.to_address, message.body) == (
        "unmatched", None, "+14155559999", FROM_NUMBER, "hello? who is this",
    )  # fmt: skip
    assert world.responses() == []


def test_a_text_after_the_conversation_ended_is_unmatched(world: SmsWorld) -> None:
    world.survey()
    world.text("5 great")
    answer = world.text("also, thanks again")
    assert answer.texts == [sms_texts.no_open_survey()]
    assert [r.comment for r in world.responses()] == ["great"]
    assert [m.kind for m in world.inbound()] == ["score", "unmatched"]


def test_a_reply_after_expiry_is_kept_but_not_counted(world: SmsWorld) -> None:
    send = world.survey()
    world.clock.advance(timedelta(days=3, seconds=1))
    answer = world.text("5 lovely")
    assert answer.texts == [sms_texts.survey_closed()]
    [response] = world.responses()
    assert (response.send_id, response.score, response.comment, response.counted) == (
        send.id,
        5,
        "lovely",
        False,
    )
    assert [(h.score, h.counted) for h in world.heard] == [(5, False)]
    assert [m.kind for m in world.inbound()] == ["late"]


def test_a_newer_survey_takes_the_replies(world: SmsWorld) -> None:
    first = world.survey("e1")
    world.clock.advance(timedelta(hours=1))
    second = world.survey("e2", properties={"ticket_id": "T-2"})
    world.text("3 ok")
    [response] = world.responses()
    assert response.send_id == second.id != first.id


def test_the_same_message_sid_counts_once(world: SmsWorld) -> None:
    world.survey()
    sid = new_sid()
    first = world.text("five", sid=sid)
    again = world.text("five", sid=sid)

    assert again.status == 200 and again.texts == first.texts
    assert len(world.inbound()) == 1 and len(world.responses()) == 1
    assert len(world.heard) == 1
    world.text("friendly", sid=new_sid())
    assert [r.comment for r in world.responses()] == ["friendly"]


def test_the_follow_up_is_rendered_for_the_contact(world: SmsWorld) -> None:
    world.survey(details={"name": "Grace"})
    assert world.text("4").texts == ["Thanks Grace! What is the main reason for your score?"]
