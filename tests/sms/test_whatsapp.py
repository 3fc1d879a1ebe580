"""WhatsApp through Twilio: the approved template opens the conversation, a tapped button or
list item counts as its score, the follow-up and STOP work as by SMS, opt-outs stay per channel."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from bot.app import build_channels
from bot.errors import ConfigError
from tests.conftest import make_config
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, inbound_whatsapp_params
from tests.helpers import event
from tests.sms.conftest import FOLLOW_UP, PHONE, Answer, SmsWorld, WorldFactory, _surveys, twilio_settings

CONTENT_SID = "HX" + "0123456789abcdef" * 2
WHATSAPP_FROM = "whatsapp:+15550002222"
VARIABLES = {"1": "{{ contact.name }}", "2": "{{ properties.ticket_id }}"}
BY_WHATSAPP = [{"name": "csat_by_whatsapp", "on": "ticket.solved", "survey": "support_csat",
                "channels": ["whatsapp", "sms"]}]  # fmt: skip


def whatsapp_channels(fake: FakeTwilio, tmp_path: Path, **whatsapp: Any) -> dict[str, Any]:
    settings = {"provider": "twilio", "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN,
                "from": WHATSAPP_FROM, "api_base_url": fake.base_url, "rate_per_second": 1000,
                "content_sid": CONTENT_SID, "content_variables": VARIABLES}  # fmt: skip
    return twilio_settings(fake, tmp_path) | {"whatsapp": settings | whatsapp}


@pytest.fixture
def wa_world(make_world: WorldFactory, fake_twilio: FakeTwilio, tmp_path: Path) -> SmsWorld:
    return make_world(triggers=BY_WHATSAPP, channels=whatsapp_channels(fake_twilio, tmp_path))


def whatsapp(world: SmsWorld, body: str, **tap: Any) -> Answer:
    return world.post("/twilio/sms", inbound_whatsapp_params(PHONE, body, to=WHATSAPP_FROM, **tap))


def test_the_template_opens_the_conversation_with_its_variables_and_no_body(wa_world: SmsWorld) -> None:
    send = wa_world.survey("e1")
    [message] = wa_world.fake.messages
    assert (send.channel, send.status, send.to_address) == ("whatsapp", "sent", PHONE)
    assert (message["from"], message["to"]) == (WHATSAPP_FROM, f"whatsapp:{PHONE}")
    assert message["content_sid"] == CONTENT_SID
    assert message["content_variables"] == {"1": "Ada", "2": "T-1"}
    assert message["body"] == ""


def test_a_tapped_button_is_the_score_and_the_next_message_the_comment(wa_world: SmsWorld) -> None:
    send = wa_world.survey("e1")
    asked = whatsapp(wa_world, "4 - Good", button=("csat_4", "4 - Good"))
    assert asked.texts == [FOLLOW_UP.replace("{{ contact.name }}", "Ada")]
    thanked = whatsapp(wa_world, "Quick, but I had to explain twice")
    assert thanked.texts == ["Thank you for your feedback!"]
    [response] = wa_world.responses()
    assert (response.send_id, response.score, response.comment, response.channel) == (
        send.id, 4, "Quick, but I had to explain twice", "whatsapp",
    )  # fmt: skip
    assert [m.kind for m in wa_world.inbound()] == ["score", "comment"]


def test_a_picked_list_item_counts_by_its_id_whatever_its_title(wa_world: SmsWorld) -> None:
    wa_world.survey("e1")
    whatsapp(wa_world, "Very satisfied", list_item=("score-5", "Very satisfied"))
    assert [r.score for r in wa_world.responses()] == [5]


def test_a_button_off_the_scale_is_read_as_text_and_re_prompted(wa_world: SmsWorld) -> None:
    wa_world.survey("e1")
    answer = whatsapp(wa_world, "Talk to a person", button=("agent", "Talk to a person"))
    assert answer.texts == ["Sorry, we didn't catch a score. Please reply with a number from 1 to 5."]
    assert wa_world.responses() == []


def test_a_typed_score_works_as_by_sms(wa_world: SmsWorld) -> None:
    wa_world.survey("e1")
    whatsapp(wa_world, "5 great service")
    [response] = wa_world.responses()
    assert (response.score, response.comment) == (5, "great service")


def test_an_sms_from_the_same_number_does_not_answer_the_whatsapp_survey(wa_world: SmsWorld) -> None:
    wa_world.survey("e1")
    assert wa_world.text("5").texts[0].startswith("Thanks for your message. We have no open survey")
    assert wa_world.responses() == []


def test_stop_on_whatsapp_opts_out_of_whatsapp_only(wa_world: SmsWorld) -> None:
    wa_world.survey("e1")
    assert whatsapp(wa_world, "STOP").texts == [
        "You will get no more surveys from us on WhatsApp. Reply START to opt back in."
    ]  # no carrier answers STOP on WhatsApp: we do
    later = wa_world.survey("e2")
    assert (later.channel, later.status) == ("sms", "sent")  # the next channel in the list
    assert [m["to"] for m in wa_world.fake.messages] == [f"whatsapp:{PHONE}", PHONE]


def test_stop_by_sms_leaves_whatsapp_open(wa_world: SmsWorld) -> None:
    wa_world.text("STOP")
    later = wa_world.survey("e1")
    assert (later.channel, later.status) == ("whatsapp", "sent")
    assert whatsapp(wa_world, "START").texts[0].startswith("You are opted back in")


def test_outside_the_24_hour_window_the_survey_falls_back_to_sms(
    make_world: WorldFactory, fake_twilio: FakeTwilio, tmp_path: Path
) -> None:
    world = make_world(triggers=[{**BY_WHATSAPP[0], "fallback": True}],
                       channels=whatsapp_channels(fake_twilio, tmp_path, content_sid=None))  # fmt: skip
    send = world.survey("e1")
    world.report(send.provider_message_id, "undelivered", "63016")
    world.services.dispatcher.run_once()
    assert [(s.channel, s.status) for s in world.sends()] == [("whatsapp", "undelivered"), ("sms", "sent")]
    assert world.fake.messages[-1]["to"] == PHONE
    late = whatsapp(world, "5")  # the fallback took over: the WhatsApp send takes no answer ...
    assert late.texts[0].startswith("Thanks for your message. We have no open survey")
    world.text("4")  # ... the SMS one does
    assert [(r.channel, r.score) for r in world.responses()] == [("sms", 4)]


def test_a_sender_with_no_number_is_refused(wa_world: SmsWorld) -> None:
    params = inbound_whatsapp_params(PHONE, "5", to=WHATSAPP_FROM) | {"From": "whatsapp:"}
    assert wa_world.post("/twilio/sms", params).status == 400
    assert wa_world.inbound() == []


def test_a_tap_with_hostile_fields_is_kept_safely(wa_world: SmsWorld) -> None:
    wa_world.survey("e1")
    answer = whatsapp(wa_world, "", button=("x\x00" * 500, "<b>\x00</b>" * 100))
    assert answer.status == 200
    [message] = wa_world.inbound()
    assert message.kind == "reprompt" and "\x00" not in (message.body or "")


def test_without_a_content_sid_the_survey_text_goes_as_the_body(
    make_world: WorldFactory, fake_twilio: FakeTwilio, tmp_path: Path
) -> None:
    channels = whatsapp_channels(fake_twilio, tmp_path, content_sid=None, content_variables={})
    world = make_world(triggers=BY_WHATSAPP, channels=channels)
    world.survey("e1")
    [message] = world.fake.messages
    assert (message["body"], message["content_sid"]) == ("Hi Ada, rate ticket T-1 1-5", None)


def test_the_log_provider_writes_the_variables_it_would_send(make_services: Any, tmp_path: Path) -> None:
    whatsapp_log = {"provider": "log", "path": str(tmp_path / "wa.jsonl"), "content_sid": CONTENT_SID,
                    "content_variables": {"1": "{{ contact.name }}\n\n  of   Acme"}}  # fmt: skip
    services = make_services(triggers=BY_WHATSAPP, channels={"whatsapp": whatsapp_log})
    services.dispatcher.channels = build_channels(services.config, services.clock)  # as `run` builds them
    services.ingestor.ingest([event("e1")])
    services.dispatcher.run_once()
    [line] = (tmp_path / "wa.jsonl").read_bytes().splitlines()
    record = orjson.loads(line)
    assert (record["channel"], record["to"]) == ("whatsapp", PHONE)
    assert record["content_variables"] == {"1": "Ada of Acme"}  # one line, as WhatsApp takes it


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"From": WHATSAPP_FROM, "To": f"whatsapp:{PHONE}"}, 21602),
        ({"From": WHATSAPP_FROM, "To": PHONE, "Body": "hi"}, 21910),
        ({"From": WHATSAPP_FROM, "To": f"whatsapp:{PHONE}", "ContentSid": "HX123"}, 21655),
        (
            {
                "From": WHATSAPP_FROM,
                "To": f"whatsapp:{PHONE}",
                "ContentSid": CONTENT_SID,
                "ContentVariables": "{'1': 'Ada'}",
            },
            21656,
        ),
        (
            {
                "From": WHATSAPP_FROM,
                "To": f"whatsapp:{PHONE}",
                "ContentSid": CONTENT_SID,
                "ContentVariables": '{"1": ""}',
            },
            21656,
        ),
    ],
)
def test_the_fake_refuses_what_twilio_refuses(
    fake_twilio: FakeTwilio, form: dict[str, str], code: int
) -> None:
    url = f"{fake_twilio.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    answer = requests.post(url, data=form, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)
    assert (answer.status_code, answer.json()["code"]) == (400, code)
    assert fake_twilio.messages == []


def test_whatsapp_settings_are_checked_in_one_pass(db_url: str, tmp_path: Path) -> None:
    bad = {"provider": "twilio", "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN,
           "from": "+15550002222", "content_sid": "template-1"}  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        make_config(db_url, tmp_path, channels={"whatsapp": bad})
    problems = "\n".join(caught.value.problems)
    assert (
        "channels.whatsapp.from: '+15550002222' is not a WhatsApp sender like whatsapp:+15550001111"
        in problems
    )
    assert "channels.whatsapp.content_sid: 'template-1' is not a Content SID like HX" in problems


def test_content_variables_must_be_numbered_and_compile(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        make_config(db_url, tmp_path, channels={"whatsapp": {"content_variables": {"name": "{{ x"}}})
    problems = "\n".join(caught.value.problems)
    assert (
        'channels.whatsapp.content_variables.name: a Content template numbers its variables: use keys "1"'
        in problems
    )
    assert "channels.whatsapp.content_variables.name: the template does not compile" in problems


def test_the_reminder_on_whatsapp_opens_the_conversation_with_the_same_template(
    make_world: WorldFactory, fake_twilio: FakeTwilio, tmp_path: Path
) -> None:
    surveys = _surveys()
    surveys["support_csat"]["reminder"] = {"after": "24h"}
    world = make_world(
        surveys=surveys, triggers=BY_WHATSAPP, channels=whatsapp_channels(fake_twilio, tmp_path)
    )
    world.survey("e1")
    world.clock.advance(timedelta(hours=24))
    assert world.services.reminders is not None and world.services.reminders.run_once() == 1
    first, reminder = world.fake.messages
    assert (reminder["to"], reminder["content_sid"]) == (f"whatsapp:{PHONE}", CONTENT_SID)
    assert reminder["content_variables"] == first["content_variables"] == {"1": "Ada", "2": "T-1"}
    tapped = whatsapp(world, "5 - Excellent", button=("csat_5", "5 - Excellent"))
    assert tapped.texts == [FOLLOW_UP.replace("{{ contact.name }}", "Ada")]
    [response] = world.responses()
    assert response.score == 5, "a tap on the reminder answers the first ask"
