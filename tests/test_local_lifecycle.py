"""The local stack over time: the password Grafana holds, the provider uses and `make password`
prints stay one and the same across up, down, up and password changes (tests/support/lifecycle.py
models the engine, Docker and Grafana's image)."""

from __future__ import annotations

from pathlib import Path

import pytest

from components import local_stack
from tests.support.lifecycle import Machine

CHOSEN = "a-chosen-password-123"
ANOTHER = "another-password-456"


def assert_one_password(machine: Machine) -> str:
    held = machine.grafana_database_password()
    assert machine.provider_password() == held
    assert machine.make_password() == held
    return held


def test_up_down_up_keeps_the_generated_password(tmp_path: Path) -> None:
    machine = Machine(tmp_path)
    machine.up()
    first = assert_one_password(machine)
    machine.down()
    assert "local-grafana" not in machine.state
    assert "local-grafana-admin-password" in machine.state  # protected: survives make down
    assert (machine.volumes / "llm-o11y-grafana-data").is_dir()
    machine.up()
    assert assert_one_password(machine) == first


def test_down_removes_what_nothing_protected_needs(tmp_path: Path) -> None:
    machine = Machine(tmp_path)
    machine.up()
    machine.down()
    kinds = {d.type for d in machine.state.values()}
    assert "docker:index/container:Container" not in kinds
    assert "grafana:oss/dashboard:Dashboard" not in kinds
    assert not (machine.volumes / "llm-o11y-otel-collector-probe").exists()


def test_setting_changing_and_unsetting_the_password_on_an_existing_stack(tmp_path: Path) -> None:
    machine = Machine(tmp_path)
    machine.up()
    generated = assert_one_password(machine)
    machine.up({"grafanaAdminPassword": CHOSEN})
    assert assert_one_password(machine) == CHOSEN
    machine.down()
    machine.up({"grafanaAdminPassword": ANOTHER})
    assert assert_one_password(machine) == ANOTHER
    machine.up()
    assert assert_one_password(machine) == generated


def test_the_model_sees_a_lock_out_when_grafana_is_only_told_at_creation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The start without the reset: Grafana keeps the password its database was created with.
    monkeypatch.setattr(local_stack, "GRAFANA_START", "exec /run.sh")
    machine = Machine(tmp_path)
    machine.up()
    machine.up({"grafanaAdminPassword": CHOSEN})
    assert machine.provider_password() == CHOSEN
    assert machine.grafana_database_password() != CHOSEN
