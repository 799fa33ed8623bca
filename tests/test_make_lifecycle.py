"""The Make targets' stack and config steps on a fresh clone, with a stand-in `pulumi` and `docker`.

tests/support/stub_pulumi.py writes stack files the way the real CLI does (a new
`encryptionsalt`, comments reflowed); after `make up`, `make preview`, `make env`, `make
password` and `make down` the clone's `git status` must still be clean.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# The venv running the tests stands in for the clone's (make's VENV), taken as up to date.
VENV = Path(sys.prefix)
DOCKER = """#!/bin/sh
[ "$1" = version ] && { echo "${STUB_DOCKER_API:-1.41}"; exit 0; }
echo "stub docker: unexpected $*" >&2; exit 2
"""

pytestmark = [
    pytest.mark.skipif(
        shutil.which("make") is None or shutil.which("git") is None, reason="needs make and git"
    ),
    pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="needs the tests to run in a venv"),
]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """The working tree's files (tracked and new) committed into a fresh repository."""
    repo = tmp_path / "repo"
    files = git(REPO_ROOT, "ls-files", "-co", "--exclude-standard").splitlines()
    for name in files:
        source = REPO_ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "clone")
    return repo


@pytest.fixture
def stubs(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").symlink_to(REPO_ROOT / "tests" / "support" / "stub_pulumi.py")
    (bin_dir / "docker").write_text(DOCKER)
    (bin_dir / "docker").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "MAKE"))}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    env["STUB_PULUMI_STATE"] = str(tmp_path / "pulumi-state")
    return env


def make(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # The clone's requirements files are newer than the venv's stamp: don't reinstall.
    command = ["make", "-s", f"VENV={VENV}", "-o", f"{VENV}/.installed", *args]
    return subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, check=False)


def test_a_fresh_clone_stays_clean_through_the_make_targets(
    clone: Path, stubs: dict[str, str]
) -> None:
    tracked = (clone / "stacks" / "Pulumi.local.yaml").read_bytes()
    for target in (["up", "YES=1"], ["preview"], ["down", "YES=1"], ["up", "YES=1"]):
        result = make(clone, stubs, *target)
        assert result.returncode == 0, result.stderr
    env = make(clone, stubs, "env")
    password = make(clone, stubs, "password")
    assert (env.returncode, password.returncode) == (0, 0), env.stderr + password.stderr
    # Only the output on stdout: `eval "$(make env)"` works.
    assert env.stdout == "export CLAUDE_CODE_ENABLE_TELEMETRY=1\n"
    assert password.stdout == "stub-admin-password\n"
    assert git(clone, "status", "--porcelain") == ""
    assert (clone / "stacks" / "Pulumi.local.yaml").read_bytes() == tracked
    copy = (clone / ".pulumi" / "stacks" / "Pulumi.local.yaml").read_text()
    assert "encryptionsalt:" in copy
    calls = Path(stubs["STUB_PULUMI_STATE"], "calls").read_text().splitlines()
    config_file = str(clone / ".pulumi" / "stacks" / "Pulumi.local.yaml")
    for call in calls:
        if call.split()[0] in ("up", "preview", "destroy"):
            assert f"--config-file {config_file}" in call, call


def test_env_and_password_on_a_fresh_clone_create_nothing(
    clone: Path, stubs: dict[str, str]
) -> None:
    # No venv, no Docker: a PATH with only the stub pulumi and the basic tools.
    bare = {**stubs, "PATH": f"{Path(stubs['PATH'].split(':')[0])}:/usr/bin:/bin"}
    (Path(bare["PATH"].split(":")[0]) / "docker").unlink()
    for target in ("env", "password"):
        result = subprocess.run(
            ["make", "-s", "VENV=/nonexistent", target],
            cwd=clone,
            env=bare,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode != 0
        assert result.stdout == ""
        assert "run make up first" in result.stderr
    assert not Path(stubs["STUB_PULUMI_STATE"], "calls").exists()
    assert git(clone, "status", "--porcelain") == ""


def test_an_engine_older_than_20_10_is_refused_before_any_change(
    clone: Path, stubs: dict[str, str]
) -> None:
    result = make(clone, {**stubs, "STUB_DOCKER_API": "1.40"}, "up", "YES=1")
    assert result.returncode != 0
    assert "Docker Engine 20.10 or newer (API 1.41); this engine speaks API 1.40" in result.stderr
    assert not Path(stubs["STUB_PULUMI_STATE"], "calls").exists()
    assert make(clone, {**stubs, "STUB_DOCKER_API": "1.47"}, "preview").returncode == 0


def test_config_set_on_this_machine_stays_in_the_machine_copy(
    clone: Path, stubs: dict[str, str]
) -> None:
    from tools.stack_file import per_machine, sync

    assert make(clone, stubs, "up", "YES=1").returncode == 0
    copy_path = clone / ".pulumi" / "stacks" / "Pulumi.local.yaml"
    # What `make config ARGS='set --secret grafanaAdminPassword ...'` leaves in the copy.
    copy_path.write_text(
        copy_path.read_text() + "  llm-o11y:grafanaAdminPassword:\n    secure: v1:abc:def\n"
    )
    tracked = clone / "stacks" / "Pulumi.local.yaml"
    tracked.write_text(tracked.read_text().replace("grafana: 3000", "grafana: 3300"))
    sync(clone, "local")
    import yaml

    copy = yaml.safe_load(copy_path.read_text())
    assert copy["config"]["llm-o11y:grafanaAdminPassword"] == {"secure": "v1:abc:def"}
    assert copy["config"]["llm-o11y:local"]["ports"]["grafana"] == 3300
    assert copy["encryptionsalt"].startswith("v1:")
    assert per_machine(copy, yaml.safe_load(tracked.read_text()))["config"] == {
        "llm-o11y:grafanaAdminPassword": {"secure": "v1:abc:def"}
    }
