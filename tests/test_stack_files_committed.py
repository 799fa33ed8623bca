"""Committed stack files hold nothing the Pulumi CLI cannot read on another machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.settings import required_secrets

STACKS = sorted((Path(__file__).resolve().parent.parent / "stacks").glob("Pulumi.*.yaml"))


def secure_leaves(value: Any, where: str = "") -> list[str]:
    if isinstance(value, dict):
        if "secure" in value:
            return [where]
        return [leaf for k, v in value.items() for leaf in secure_leaves(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in secure_leaves(v, f"{where}[{i}]")]
    return []


@pytest.mark.parametrize("path", STACKS, ids=[p.name for p in STACKS])
def test_no_secure_value_and_no_per_machine_salt(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    # A `secure:` value is ciphertext of one secrets provider: fake ones fail the CLI with
    # "nonce size is incorrect", real ones decrypt only with their author's passphrase.
    assert secure_leaves(document) == []
    assert "encryptionsalt" not in document


@pytest.mark.parametrize("path", STACKS, ids=[p.name for p in STACKS])
def test_each_required_secret_comes_with_its_command(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    config = yaml.safe_load(text)["config"]
    values = {k.removeprefix("llm-o11y:"): v for k, v in config.items()}
    for key in required_secrets(values):
        assert f"pulumi config set --secret {key}" in text
