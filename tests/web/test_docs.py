"""`GET /docs`: the API reference works offline: no script, no asset from anywhere else."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from bot.app import Services
from bot.web.app import create_web_app


def test_the_reference_page_lists_every_operation_and_model_with_nothing_from_outside(
    services: Services,
) -> None:
    app = create_web_app(services)
    response = TestClient(app).get("/docs")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = response.text
    assert "<script" not in page.lower()
    links = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert links and all(link.startswith(("#", "/")) for link in links), links  # nothing from a CDN
    schema = app.openapi()
    for path, item in schema["paths"].items():
        for method in item:
            assert f"<code>{method.upper()} {path}</code>" in page
    for model in schema["components"]["schemas"]:
        assert f'id="model-{model}"' in page
    assert '<td class="mono">contact</td>' in page  # EventIn's fields are listed
    assert "/docs" not in schema["paths"]  # the page is not part of the API it describes
