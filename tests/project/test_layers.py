"""The layout's dependency rules, read from the source with `ast`: dependencies point one way,
bot -> storage -> triggers, and each outside SDK is imported by its one module only.

Every import counts, also those inside functions or under `if TYPE_CHECKING:`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "storage", "triggers")

# The one module allowed to import each outside SDK (SQL has a package of its own: storage/).
SDK_HOMES = {
    "twilio": "bot/channels/twilio.py",
    "slack_sdk": "bot/slack/app.py",
    "slack_bolt": "bot/slack/app.py",
    "apscheduler": "bot/runtime/scheduler.py",
    "smtplib": "bot/channels/smtp_email.py",
    "matplotlib": "bot/metrics/chart.py",
    "jsonpath": "bot/intake/sources/webhook.py",
    "uvicorn": "bot/web/server.py",
    "standardwebhooks": "bot/outbound/targets.py",
}
SQL_LIBRARIES = ("sqlalchemy", "sqlmodel")


@dataclass(frozen=True)
class Import:
    path: str  # the importing file, from the repository's root
    line: int
    module: str  # absolute, e.g. twilio.request_validator

    @property
    def top(self) -> str:
        return self.module.partition(".")[0]

    def breaks(self, rule: str) -> str:
        return f"{self.path}:{self.line} imports {self.module}, but {rule}"


def read_imports(path: Path) -> Iterator[Import]:
    """Every import statement in the file at `path`, relative ones made absolute."""
    where = path.relative_to(ROOT)
    package = where.parent.parts
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(where.as_posix(), node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join([*base, *([node.module] if node.module else [])])
            yield Import(where.as_posix(), node.lineno, module)


SOURCES = [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
IMPORTS = [found for path in SOURCES for found in read_imports(path)]


def check(broken: list[Import], rule: str) -> None:
    """Fail with one line per import in `broken`, naming the file, the import and `rule`."""
    if broken:
        pytest.fail("\n".join(i.breaks(rule) for i in broken), pytrace=False)


def check_sdk_home(sdk: str) -> None:
    """Fail for each import of `sdk` outside the one module allowed to import it."""
    home = SDK_HOMES[sdk]
    assert (ROOT / home).is_file(), f"{home}, the one module allowed to import {sdk}, is gone"
    check([i for i in IMPORTS if i.top == sdk and i.path != home], f"only {home} may import {sdk}")


def test_the_scan_sees_the_packages_imports() -> None:
    assert {i.top for i in IMPORTS} >= {*PACKAGES, *SDK_HOMES, *SQL_LIBRARIES}


def test_triggers_import_neither_bot_nor_storage() -> None:
    check(
        [i for i in IMPORTS if i.path.startswith("triggers/") and i.top in ("bot", "storage")],
        "triggers/ may import neither bot nor storage (bot -> storage -> triggers)",
    )


def test_storage_does_not_import_bot() -> None:
    check(
        [i for i in IMPORTS if i.path.startswith("storage/") and i.top == "bot"],
        "storage/ may not import bot (bot -> storage -> triggers)",
    )


def test_apscheduler_only_in_the_scheduler() -> None:
    check_sdk_home("apscheduler")


def test_smtplib_only_in_the_smtp_channel() -> None:
    check_sdk_home("smtplib")


def test_matplotlib_only_in_the_chart() -> None:
    check_sdk_home("matplotlib")


def test_twilio_only_in_the_twilio_channel() -> None:
    check_sdk_home("twilio")


def test_slack_sdks_only_in_the_slack_app() -> None:
    check_sdk_home("slack_sdk")
    check_sdk_home("slack_bolt")


def test_standardwebhooks_only_in_the_outbound_targets() -> None:
    check_sdk_home("standardwebhooks")


def test_sql_only_in_storage() -> None:
    check(
        [i for i in IMPORTS if i.top in SQL_LIBRARIES and not i.path.startswith("storage/")],
        "only storage/ may import sqlalchemy or sqlmodel",
    )
