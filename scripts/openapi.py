"""Print the HTTP API's OpenAPI description, as `GET /openapi.json` serves it.

    python scripts/openapi.py > docs/openapi.json

(tests/web/test_openapi.py fails when docs/openapi.json differs from what the app serves.)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build_services
from bot.config import parse_config
from bot.web.app import create_web_app
from storage.db import Database


def main() -> None:
    config = parse_config("server: {secret_key: only-for-the-description}")
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite:///{scratch}/openapi.db")
        db.create_all()
        services = build_services(config, db=db, channels={})
        try:
            description = create_web_app(services).openapi()
        finally:
            services.close()
    sys.stdout.write(orjson.dumps(description, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
