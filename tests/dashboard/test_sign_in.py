"""Signing in to the dashboard: a one-time link by email or from the command line, signed
cookies with an expiry, CSRF tokens and our Origin on every POST, attempts rate-limited."""

from __future__ import annotations

import re
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from bot.config import ConfigError, parse_config
from bot.web.app import create_web_app
from tests.conftest import ServicesFactory
from tests.dashboard.conftest import PUBLIC_URL, SECRET, csrf_of, dashboard_overrides, sign_in, spend
from tests.helpers import outbox, write_config


def client_for(services: object) -> TestClient:
    return TestClient(create_web_app(services), base_url=PUBLIC_URL)  # type: ignore[arg-type]


def ask_for_link(client: TestClient, email: str, **headers: str) -> int:
    form = client.get("/dashboard/login")
    answer = client.post(
        "/dashboard/login", data={"email": email, "csrf": csrf_of(form.text)}, headers=headers
    )
    return answer.status_code


def emailed_link(tmp_path: Path) -> str:
    [mail] = outbox(tmp_path, "email")
    match = re.search(r"https://\S+/dashboard/auth/\S+", mail["body"])
    assert match, mail["body"]
    return match.group(0)


def test_the_emailed_link_signs_in_once(make_services: ServicesFactory, tmp_path: Path) -> None:
    services = make_services(**dashboard_overrides())
    with client_for(services) as client:
        assert client.get("/dashboard", follow_redirects=False).headers["location"] == "/dashboard/login"
        assert ask_for_link(client, "Ada@Example.com") == 200
        [mail] = outbox(tmp_path, "email")
        assert mail["to"] == "ada@example.com"
        assert mail["subject"] == "Your surveybot sign-in link"
        link = emailed_link(tmp_path)
        signed_in = spend(client, link)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/dashboard"
        cookie = SimpleCookie(signed_in.headers["set-cookie"].split(", surveybot_presession")[0])
        session = cookie["surveybot_session"]
        assert session["httponly"] and session["secure"]
        assert session["samesite"].lower() == "lax" and session["path"] == "/dashboard"
        assert int(session["max-age"]) == 12 * 3600
        overview = client.get("/dashboard")
        assert overview.status_code == 200 and "ada@example.com (manager)" in overview.text
    with client_for(services) as someone_else:
        reused = spend(someone_else, link)
        assert reused.status_code == 400 and "already used" in reused.text
        assert "surveybot_session" not in reused.headers.get("set-cookie", "")


def test_a_forged_or_expired_link_is_refused(make_services: ServicesFactory, tmp_path: Path) -> None:
    services = make_services(**dashboard_overrides())
    with client_for(services) as client:
        assert spend(client, f"{PUBLIC_URL}/dashboard/auth/forged-token-123").status_code == 400
        ask_for_link(client, "ada@example.com")
        services.clock.advance(timedelta(minutes=15, seconds=1))  # dashboard.link_lifetime is 15m
        assert spend(client, emailed_link(tmp_path)).status_code == 400
        assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_an_address_not_listed_gets_the_same_answer_and_no_email(
    make_services: ServicesFactory, tmp_path: Path
) -> None:
    services = make_services(**dashboard_overrides())
    with client_for(services) as client:
        form = client.get("/dashboard/login")
        answer = client.post("/dashboard/login", data={"email": "eve@evil.test", "csrf": csrf_of(form.text)})
    assert answer.status_code == 200 and "If that address may sign in" in answer.text
    assert outbox(tmp_path, "email") == []


def test_a_post_without_the_csrf_token_or_from_another_origin_is_refused(
    make_services: ServicesFactory, tmp_path: Path
) -> None:
    services = make_services(**dashboard_overrides())
    with client_for(services) as client:
        client.get("/dashboard/login")
        assert client.post("/dashboard/login", data={"email": "ada@example.com"}).status_code == 403
        assert ask_for_link(client, "ada@example.com", origin="https://evil.example") == 403
        assert outbox(tmp_path, "email") == []
        sign_in(client, services, "ada@example.com")
        logout = client.post("/dashboard/logout", data={"csrf": "not-the-token"}, follow_redirects=False)
        assert logout.status_code == 403
        assert client.get("/dashboard").status_code == 200  # still signed in


def test_sign_in_attempts_are_rate_limited_per_address(
    make_services: ServicesFactory, tmp_path: Path
) -> None:
    services = make_services(**dashboard_overrides())
    with client_for(services) as client:
        codes = [ask_for_link(client, "ada@example.com") for _ in range(6)]
        assert codes == [200] * 5 + [429]
        assert len(outbox(tmp_path, "email")) == 5
        services.clock.advance(timedelta(minutes=16))
        assert ask_for_link(client, "ada@example.com") == 200


def test_a_session_ends_at_its_expiry_or_when_tampered_with(make_services: ServicesFactory) -> None:
    services = make_services(**dashboard_overrides())
    with client_for(services) as client:
        sign_in(client, services, "vic@example.com")
        assert client.get("/dashboard").status_code == 200
        value = client.cookies.get("surveybot_session")
        assert value
        client.cookies.set(
            "surveybot_session", value[:-2] + "xx", domain="surveys.example.com", path="/dashboard"
        )
        assert client.get("/dashboard", follow_redirects=False).status_code == 303
        client.cookies.clear()
        sign_in(client, services, "vic@example.com")
        services.clock.advance(timedelta(hours=12, seconds=1))
        assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_signing_out_ends_the_session(make_services: ServicesFactory) -> None:
    services = make_services(**dashboard_overrides())
    with client_for(services) as client:
        sign_in(client, services, "ada@example.com")
        page = client.get("/dashboard")
        out = client.post("/dashboard/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
        assert out.status_code == 303
        assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_the_command_line_prints_a_link_for_a_listed_address_only(
    tmp_path: Path, db_url: str, database: object
) -> None:
    config = write_config(tmp_path, db_url, **dashboard_overrides())
    runner = CliRunner()
    printed = runner.invoke(
        __import__("bot.cli.main", fromlist=["cli"]).cli,
        ["dashboard", "login", "ada@example.com", "--config", str(config)],
    )
    assert printed.exit_code == 0, printed.output
    assert re.match(
        r"^https://surveys\.example\.com/dashboard/auth/[\w-]{40,}\n\(works once, until ", printed.output
    )
    refused = runner.invoke(
        __import__("bot.cli.main", fromlist=["cli"]).cli,
        ["dashboard", "login", "eve@evil.test", "--config", str(config)],
    )
    assert refused.exit_code == 1
    assert "'eve@evil.test' is not in dashboard.users" in refused.output


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        (
            {"users": [{"email": "ada@example.com"}]},
            "dashboard.secret: is required when dashboard.users is set",
        ),
        ({"secret": "short", "users": []}, "dashboard.secret: is too short: at least 16 characters"),
        (
            {"secret": SECRET, "users": [{"email": "a@x.io"}, {"email": "A@x.io"}]},
            "dashboard.users[1].email: 'A@x.io' is listed twice",
        ),
        (
            {"secret": SECRET, "users": [{"email": "a@x.io", "role": "boss"}]},
            "dashboard.users[0].role: 'boss' is not one of: 'viewer', 'manager' or 'admin'",
        ),
        ({"secret": SECRET, "link_lifetime": "2d"}, "dashboard.link_lifetime: must be between 1m and 1d"),
    ],
)
def test_dashboard_config_problems_name_their_field(section: dict[str, object], problem: str) -> None:
    import orjson

    with pytest.raises(ConfigError) as raised:
        parse_config(orjson.dumps({"dashboard": section}).decode())
    assert any(p.startswith(problem) for p in raised.value.problems), raised.value.problems
