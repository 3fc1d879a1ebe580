"""The locks hold everything the code imports, and honour pyproject.toml.

The packages run from requirements/run.lock; the tests, benchmarks and scripts from
requirements/test.lock (scripts/run and scripts/test install nothing else). An import of a
distribution its lock lacks passes wherever that distribution happens to be installed and fails on
a fresh machine, so it fails here, naming the file, the import and the distribution.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
RUN_LOCK = "requirements/run.lock"
TEST_LOCK = "requirements/test.lock"
OWN_MODULES = {"bot", "triggers", "storage", "tests", "bench"}
SOURCES_BY_LOCK = {
    RUN_LOCK: ["bot/**/*.py", "triggers/**/*.py", "storage/**/*.py"],
    TEST_LOCK: ["tests/**/*.py", "bench/**/*.py", "scripts/*.py"],
}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


@cache
def read_pins(lock: str) -> dict[NormalizedName, Version]:
    """The `name==version` lines of `lock`, by normalized name."""
    pins = {}
    for line in (ROOT / lock).read_text().splitlines():
        if line[:1].isalnum():
            name, _, version = line.split(" ")[0].partition("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, top-level module) of each absolute import in the file at `path`."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name.partition(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.partition(".")[0]


def find_unlocked_imports(lock: str) -> Iterator[str]:
    """One line per import, in the sources installed from `lock`, of a distribution it lacks."""
    providers = packages_distributions()
    pins = read_pins(lock)
    for pattern in SOURCES_BY_LOCK[lock]:
        for path in sorted(ROOT.glob(pattern)):
            for line, module in imported_modules(path):
                if module in sys.stdlib_module_names or module in OWN_MODULES:
                    continue
                where = f"{path.relative_to(ROOT)}:{line}: import {module}"
                distributions = {canonicalize_name(d) for d in providers.get(module, [])}
                if not distributions:
                    yield f"{where}: no installed distribution provides it"
                elif not distributions & pins.keys():
                    yield f"{where}: {lock} lacks {', '.join(sorted(distributions))}"


@pytest.mark.parametrize("lock", [RUN_LOCK, TEST_LOCK])
def test_every_imported_distribution_is_in_the_lock(lock: str) -> None:
    unlocked = list(find_unlocked_imports(lock))
    assert not unlocked, "\n".join(unlocked)


def declared_requirements(lock: str) -> list[Requirement]:
    """What pyproject.toml asks of `lock`: the dependencies and build backend, plus the test extra."""
    declared = PYPROJECT["project"]["dependencies"] + PYPROJECT["build-system"]["requires"]
    if lock == TEST_LOCK:
        declared = declared + PYPROJECT["project"]["optional-dependencies"]["test"]
    return [Requirement(text) for text in declared]


@pytest.mark.parametrize("lock", [RUN_LOCK, TEST_LOCK])
def test_the_lock_pins_every_declared_requirement_within_its_range(lock: str) -> None:
    pins = read_pins(lock)
    outside = [
        f"{requirement}: {lock} pins {pins.get(canonicalize_name(requirement.name), 'nothing')}"
        for requirement in declared_requirements(lock)
        if pins.get(canonicalize_name(requirement.name)) not in requirement.specifier
    ]
    assert not outside, "\n".join(outside)


def find_run_lock_gaps() -> Iterator[str]:
    """What the bot's requirements need, directly or not, that run.lock lacks or pins otherwise
    than test.lock (read from the installed distributions' metadata)."""
    tested, run = read_pins(TEST_LOCK), read_pins(RUN_LOCK)
    pending, seen = declared_requirements(RUN_LOCK), set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if (name, frozenset(requirement.extras)) in seen:
            continue
        seen.add((name, frozenset(requirement.extras)))
        if run.get(name) is None or run[name] != tested.get(name):
            yield f"{name}: run.lock pins {run.get(name, 'nothing')}, test.lock {tested.get(name, 'nothing')}"
        else:
            try:
                pending += needed_by(name, requirement.extras)
            except PackageNotFoundError:
                yield f"{name}: not installed here, so what it needs cannot be read"


def needed_by(name: str, extras: set[str]) -> list[Requirement]:
    """The requirements of the installed distribution `name` with `extras`, on this platform."""
    needed = [Requirement(text) for text in requires(name) or []]
    return [
        r
        for r in needed
        if r.marker is None or any(r.marker.evaluate({"extra": extra}) for extra in {"", *extras})
    ]


def test_the_run_lock_holds_what_the_bot_needs_at_the_tested_versions() -> None:
    gaps = list(find_run_lock_gaps())
    assert not gaps, "\n".join(gaps)
