"""`server.api_keys`: a plain string is an ingest key; `{key, scopes}` says what a key may do;
a wrong entry is named by its path."""

from __future__ import annotations

import pytest

from bot.config import parse_config
from bot.errors import ConfigError


def test_plain_strings_are_ingest_keys_and_entries_carry_their_scopes() -> None:
    config = parse_config(
        'server: {api_keys: ["k1", {key: "k2", scopes: [read]}, '
        '{key: "k3\\n", scopes: [ingest, read]}, "${UNSET:-}"]}'
    )
    keys = [(k.key, k.scopes) for k in config.server.api_keys]
    assert keys == [("k1", ["ingest"]), ("k2", ["read"]), ("k3", ["ingest", "read"])]
    assert config.server.padded_api_keys == [2]


def test_every_wrong_entry_is_named_by_its_path_in_one_pass() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            'server: {api_keys: ["k1", {key: k2, scopes: []}, {key: k3, scopes: [reed]}, {scopes: [read]}, '
            "{key: k5, scope: [read]}, 7]}"
        )
    problems = caught.value.problems
    assert "server.api_keys[1].scopes: has too few items: at least 1" in problems
    assert "server.api_keys[2].scopes[0]: 'reed' is not one of: 'ingest' or 'read'" in problems
    assert "server.api_keys[3].key: is required" in problems
    assert any(
        p.startswith("server.api_keys[4].scope: is not a known key here: did you mean 'scopes'?")
        for p in problems
    )
    assert (
        "server.api_keys[5]: 7 is not an API key: write it as text, or as {key: ..., scopes: [ingest, read]}"
        in (problems)
    )
