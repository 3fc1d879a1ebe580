"""STOP, START and Twilio's delivery reports: what they do to the number and to the sends."""

from __future__ import annotations

from datetime import timedelta

from tests.sms.conftest import SmsWorld, WorldFactory

SMS_ONLY = [{"name": "csat_by_sms", "on": "ticket.solved", "survey": "support_csat", "channels": ["sms"]}]


def test_stop_opts_the_number_out_of_every_survey(make_world: WorldFactory) -> None:
    world = make_world(triggers=SMS_ONLY)
    send = world.survey("e1")
    answer = world.text("STOP")

    assert (answer.status, answer.texts) == (200, [])  # Twilio answers STOP itself
    assert [(m.kind, m.send_id) for m in world.inbound()] == [("opt_out", send.id)]
    later = world.ingest("e2")
    assert (later.outcome, later.reason) == ("suppressed", "opted_out")
    assert len(world.fake.messages) == 1


def test_after_stop_a_survey_with_an_email_fallback_goes_by_email(world: SmsWorld) -> None:
    world.survey("e1")
    world.text("unsubscribe")
    send = world.survey("e2")
    assert (send.channel, send.status) == ("email", "sent")
    assert len(world.fake.messages) == 1


def test_start_opts_the_number_back_in(make_world: WorldFactory) -> None:
    world = make_world(triggers=SMS_ONLY)
    world.survey("e1")
    world.text("Stop.")
    assert world.text("start").texts == []
    send = world.survey("e2")
    assert (send.channel, send.status) == ("sms", "sent")
    assert len(world.fake.messages) == 2
    assert [m.kind for m in world.inbound()] == ["opt_out", "opt_in"]


def test_stop_also_holds_a_survey_already_scheduled(make_world: WorldFactory) -> None:
    world = make_world(triggers=[{**SMS_ONLY[0], "delay": "10m"}])
    decision = world.ingest("e1")
    world.text("STOPALL")
    world.clock.advance(timedelta(minutes=10))
    world.services.dispatcher.run_once()
    send = world.send(decision.send_id)
    assert (send.status, send.reason) == ("suppressed", "opted_out")
    assert world.fake.messages == []


def test_delivery_reports_move_the_send_forwards_only(world: SmsWorld) -> None:
    send = world.survey()
    sid = send.provider_message_id
    assert world.report(sid, "delivered").status == 204
    assert world.send(send.id).status == "delivered"
    world.report(sid, "sent")  # reports can arrive out of order
    world.report(sid, "queued")
    assert world.send(send.id).status == "delivered"


def test_undelivered_and_failed_are_recorded_with_the_error(world: SmsWorld) -> None:
    first = world.survey("e1")
    second = world.survey("e2")
    world.report(first.provider_message_id, "undelivered", "30003")
    world.report(second.provider_message_id, "failed", "30007")
    assert (world.send(first.id).status, world.send(first.id).reason) == ("undelivered", "Twilio error 30003")
    assert (world.send(second.id).status, world.send(second.id).reason) == ("failed", "Twilio error 30007")
    world.report(second.provider_message_id, "delivered")
    assert world.send(second.id).status == "failed"


def test_a_reply_to_an_undelivered_survey_still_counts(world: SmsWorld) -> None:
    send = world.survey()
    world.report(send.provider_message_id, "undelivered", "30005")
    world.text("4 fine")
    assert [(r.send_id, r.score) for r in world.responses()] == [(send.id, 4)]


def test_error_21610_opts_the_number_out(make_world: WorldFactory) -> None:
    world = make_world(triggers=SMS_ONLY)
    send = world.survey("e1")
    world.report(send.provider_message_id, "undelivered", "21610")
    later = world.ingest("e2")
    assert (later.outcome, later.reason) == ("suppressed", "opted_out")


def test_a_report_for_a_message_we_do_not_know_changes_nothing(world: SmsWorld) -> None:
    send = world.survey()
    assert world.report("SM" + "0" * 32, "delivered").status == 204
    assert world.send(send.id).status == "sent"
