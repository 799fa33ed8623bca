"""README's config table and the settings model name the same keys, no more and no fewer."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from components.settings import PROJECT, Settings
from tests.support.external import REPO_ROOT


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, str]:
    """The settings model a field holds, and how its key continues: `[]` for a list of them,
    `.<name>` for a mapping of names to them, else nothing."""
    origin = typing.get_origin(annotation)
    continuation = "[]" if origin is list else ".<name>" if origin is dict else ""
    # `X | None` and `list[X]` both carry X in their arguments.
    for candidate in [annotation, *typing.get_args(annotation)]:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate, continuation
    return None, ""


def model_keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every leaf key as written in a stack file, `receivers[]` for a list of settings."""
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        nested, continuation = _model_of(field.annotation)
        if nested is None:
            yield key
        else:
            yield from model_keys(nested, f"{key}{continuation}.")


def _expand(pattern: str) -> list[str]:
    """`a.{b,c}.d` -> [a.b.d, a.c.d]."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if not match:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [key for part in match.group(1).split(",") for key in _expand(head + part + tail)]


def readme_keys() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Configure a stack", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert rows, "README's Configure a stack section has no table"
    keys = []
    for row in rows:
        first_cell = row.split("|")[1]
        for written in re.findall(r"`([^`]+)`", first_cell):
            assert written.startswith(f"{PROJECT}:"), written
            keys += _expand(written.removeprefix(f"{PROJECT}:"))
    return keys


def test_the_model_keys_are_read_as_a_stack_file_writes_them() -> None:
    keys = set(model_keys(Settings))
    assert {"local.ports.otlpGrpc", "cloud.create.region", "alerting.receivers[].name"} <= keys
    assert "alerting.receivers[].webhook.basicAuthPassword" in keys
    assert "fleet.teams.<name>.costCenter" in keys
    assert _expand("a.{b,c}.{d,e}") == ["a.b.d", "a.b.e", "a.c.d", "a.c.e"]


def test_readme_lists_every_settings_key_once_and_no_other() -> None:
    documented = readme_keys()
    duplicated = sorted({key for key in documented if documented.count(key) > 1})
    assert not duplicated, f"listed twice in README: {duplicated}"
    expected = set(model_keys(Settings))
    assert not expected - set(documented), (
        f"missing from README: {sorted(expected - set(documented))}"
    )
    assert not set(documented) - expected, f"not settings: {sorted(set(documented) - expected)}"
