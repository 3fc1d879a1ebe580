"""Address keys stay what they were: opt-outs stored under them keep matching after an upgrade."""

from __future__ import annotations

from triggers.addresses import AddressKeys


def test_keys_are_the_first_40_hex_digits_of_the_hmac_sha256_of_channel_and_address() -> None:
    keys = AddressKeys("instance-secret")
    # HMAC-SHA256("instance-secret", "sms:+14155550100"), as stored by earlier versions.
    assert keys.key("sms", " +14155550100 ") == "0a30d7c8f1de549680d83e74ff99a3610994dad0"
    assert keys.key("email", "Ada@Example.com") == keys.key("email", "ada@example.com")
    assert keys.key("whatsapp", "+14155550100") != keys.key("sms", "+14155550100")
