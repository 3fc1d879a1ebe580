"""Every `surveybot` command explains itself (`--help`) and is in README.md's command table, and
that table names no command that does not exist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from bot.cli.main import cli

README = Path(__file__).resolve().parents[2] / "README.md"


def walk_commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    """Each command and group under `command`, with its full name as typed (`db upgrade`)."""
    yield " ".join(path), command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from walk_commands(sub, (*path, name))


def typed(name: str) -> str:
    """The command as a person types it: `surveybot db upgrade`."""
    return f"`surveybot {name}`".replace(" `", "`")


COMMANDS = dict(walk_commands(cli))
RUNNABLE = [name for name, command in COMMANDS.items() if name and not isinstance(command, click.Group)]


def readme_table_commands() -> set[str]:
    """The commands README.md's table rows start with: `| `surveybot db upgrade ...` -> db upgrade."""
    names = set()
    for row in re.findall(r"^\| `surveybot ([^`]*)`", README.read_text(), flags=re.MULTILINE):
        words = []
        for word in row.split():
            if not re.fullmatch(r"[a-z][a-z-]*", word):
                break
            words.append(word)
        names.add(" ".join(words))
    return names


@pytest.mark.parametrize("name", COMMANDS, ids=typed)
def test_each_command_has_help_text(name: str) -> None:
    assert (COMMANDS[name].help or "").strip(), f"{typed(name)} has no help text: give it a docstring"


@pytest.mark.parametrize("name", COMMANDS, ids=typed)
def test_each_option_has_help_text(name: str) -> None:
    bare = [
        "/".join(option.opts)
        for option in COMMANDS[name].params
        if isinstance(option, click.Option) and not (option.help or "").strip()
    ]
    assert not bare, f"{typed(name)} has options without help text: {', '.join(bare)}"


@pytest.mark.parametrize("name", RUNNABLE, ids=typed)
def test_each_command_is_in_the_readme_table(name: str) -> None:
    assert name in readme_table_commands(), f"{typed(name)} is missing from README.md's command table"


def test_the_readme_table_names_only_real_commands() -> None:
    unknown = sorted(readme_table_commands() - set(RUNNABLE))
    assert not unknown, f"README.md's command table names commands surveybot does not have: {unknown}"
