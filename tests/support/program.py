"""Running the Pulumi program under mocks with a config a test chooses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tools.synth import PROJECT, DeclaredResource, OutputsHook, Plan, run_program


def run(
    settings: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    stack: str = "test",
    recorded: list[DeclaredResource] | None = None,
    outputs_hook: OutputsHook | None = None,
) -> Plan:
    """Run the program with these `llm-o11y:*` settings, JSON-encoded as Pulumi passes them."""
    config: dict[str, str] = {}
    for key, value in (settings or {}).items():
        config[f"{PROJECT}:{key}"] = value if isinstance(value, str) else json.dumps(value)
    for key, value in (secrets or {}).items():
        config[f"{PROJECT}:{key}"] = value
    secret_keys = [f"{PROJECT}:{key}" for key in (secrets or {})]
    return run_program(config, secret_keys, stack, recorded, outputs_hook)


def rejection(settings: Mapping[str, Any], secrets: Mapping[str, str] | None = None) -> str:
    """The settings error these settings raise; fails if any resource was declared first."""
    from components.settings import SettingsError

    declared: list[DeclaredResource] = []
    try:
        run(settings, secrets, recorded=declared)
    except SettingsError as error:
        assert declared == [], f"declared before failing: {[r.name for r in declared]}"
        return str(error)
    raise AssertionError(f"settings were accepted: {dict(settings)}")
