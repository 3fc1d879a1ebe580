"""No answer builds a URL from the request's `Host` header: a trailing slash is not redirected
(the links we send never carry one), so `Host: evil.example` sends nobody to evil.example."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bot.app import Services
from bot.web.app import create_web_app


def test_a_trailing_slash_is_not_redirected_to_the_host_header(services: Services) -> None:
    link = services.links.rating_url("snd_01", 4)
    path = link.removeprefix(services.config.server.public_url)
    with TestClient(create_web_app(services)) as client:
        for url in (path + "/", "/healthz/", "/unsubscribe/x/"):
            answer = client.get(url, headers={"Host": "evil.example"}, follow_redirects=False)
            assert answer.status_code == 404, (url, answer.status_code)
            assert "location" not in answer.headers
        page = client.get(path, headers={"Host": "evil.example"})  # the link itself reaches its page
        assert page.headers["content-type"].startswith("text/html")  # (the send is unknown here: 404)
