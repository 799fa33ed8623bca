"""The offline plan: deterministic, secrets masked, and the committed snapshots up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tools.synth import SECRET_PLACEHOLDER, stack_config

REPO_ROOT = Path(__file__).resolve().parent.parent
STACKS = sorted(
    p.name[len("Pulumi.") : -len(".yaml")] for p in (REPO_ROOT / "stacks").glob("Pulumi.*.yaml")
)


def synth_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.synth", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("stack", STACKS)
def test_snapshot_is_current_and_byte_identical_across_runs(stack: str) -> None:
    first, second = synth_cli(stack), synth_cli(stack)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    snapshot = REPO_ROOT / "tests" / "snapshots" / f"{stack}.json"
    assert snapshot.read_text(encoding="utf-8") == first.stdout, (
        f"{snapshot.relative_to(REPO_ROOT)} is stale: run `make synth` and commit the diff"
    )
    assert SECRET_PLACEHOLDER not in first.stdout


def test_unknown_stack_names_the_available_ones() -> None:
    result = synth_cli("no-such-stack")
    assert result.returncode == 2
    assert "no stack file" in result.stderr and "local" in result.stderr


def test_secure_values_are_secrets_without_being_decrypted() -> None:
    document = {
        "config": {
            "llm-o11y:grafanaAdminPassword": {"secure": "v1:abc"},
            "llm-o11y:local": {"bindAddress": "127.0.0.1"},
            "llm-o11y:target": "local",
        }
    }
    config, secret_keys = stack_config(document)
    assert secret_keys == ["llm-o11y:grafanaAdminPassword"]
    assert config["llm-o11y:grafanaAdminPassword"] == SECRET_PLACEHOLDER
    assert config["llm-o11y:local"] == '{"bindAddress": "127.0.0.1"}'


def test_no_default_admin_credentials_anywhere_in_the_repo() -> None:
    # Built from parts so this file does not match itself.
    needles = ("admin" + ":" + "admin", "GF_SECURITY_ADMIN_PASSWORD" + "=" + "admin")
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    offenders = []
    for name in tracked:
        path = REPO_ROOT / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="ignore").lower()
        offenders += [f"{name}: {n}" for n in needles if n.lower() in text]
    assert offenders == []


def test_a_hashing_stack_file_without_its_salt_plans_with_a_placeholder(tmp_path: Path) -> None:
    # The salt is each user's secret, like the cloud token: a committed file cannot hold it.
    local = (REPO_ROOT / "stacks" / "Pulumi.local.yaml").read_text(encoding="utf-8")
    hashing = local.replace(
        "  llm-o11y:target: local\n", "  llm-o11y:target: local\n  llm-o11y:userIdentity: hash\n"
    )
    assert hashing != local
    stack_file = tmp_path / "Pulumi.hashing.yaml"
    stack_file.write_text(hashing, encoding="utf-8")
    planned = synth_cli("hashing", "--stack-file", str(stack_file))
    assert planned.returncode == 0, planned.stderr
    assert "llm-o11y:userIdentitySalt is not in" in planned.stderr
    assert SECRET_PLACEHOLDER not in planned.stdout
