"""What a real Docker engine meets: API versions, a second local stack, `docker inspect`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import program
from tools.synth import Plan, contains_secret, synth

CONTAINER = "docker:index/container:Container"
# The oldest engine supported: Docker Engine 20.10 (Debian 12's docker.io) speaks API 1.41.
MINIMUM_API = (1, 41)
# The Docker API version each declared field needs (Engine API version history); fields the
# provider handles itself (wait, attach, uploads via the archive API) need the base version.
# A field missing here fails the test until someone looks its version up.
API_VERSION_OF_FIELD: dict[str, tuple[int, int]] = {
    **dict.fromkeys(
        [
            "name",
            "image",
            "entrypoints",
            "command",
            "envs",
            "restart",
            "user",
            "mustRun",
            "attach",
            "wait",
            "waitTimeout",
            "ports.internal",
            "ports.external",
            "ports.ip",
            "ports.protocol",
            "uploads.file",
            "uploads.content",
            "volumes.volumeName",
            "volumes.containerPath",
            "volumes.hostPath",
            "volumes.readOnly",
            "driver",
            "memory",  # HostConfig.Memory
            "destroyGraceSeconds",  # the stop timeout (?t=) the provider passes at delete
        ],
        (1, 24),
    ),
    "networksAdvanced.name": (1, 22),
    "networksAdvanced.aliases": (1, 22),
    "healthcheck.tests": (1, 24),
    "healthcheck.interval": (1, 24),
    "healthcheck.timeout": (1, 24),
    "healthcheck.retries": (1, 24),
    "healthcheck.startPeriod": (1, 29),
    "healthcheck.startInterval": (1, 44),
}
DOCKER_TYPES = (
    CONTAINER,
    "docker:index/network:Network",
    "docker:index/volume:Volume",
)


def field_paths(inputs: dict[str, Any]) -> set[str]:
    paths = set()
    for key, value in inputs.items():
        items = value if isinstance(value, list) else [value]
        nested = [item for item in items if isinstance(item, dict)]
        if nested:
            paths |= {f"{key}.{inner}" for item in nested for inner in item}
        else:
            paths.add(key)
    return paths


@pytest.fixture(scope="module")
def local_plan() -> Plan:
    return synth("local")


def test_no_docker_field_needs_an_api_newer_than_1_41(local_plan: Plan) -> None:
    for declared in local_plan.resources:
        if declared.type not in DOCKER_TYPES:
            continue
        for path in field_paths(declared.inputs):
            assert path in API_VERSION_OF_FIELD, f"{declared.name}: which API version has {path}?"
            needed = API_VERSION_OF_FIELD[path]
            assert needed <= MINIMUM_API, f"{declared.name}.{path} needs API {needed}"


def test_the_version_table_would_catch_start_interval() -> None:
    assert API_VERSION_OF_FIELD["healthcheck.startInterval"] > MINIMUM_API


def docker_names(plan: Plan) -> set[str]:
    return {r.inputs["name"] for r in plan.resources if r.type in DOCKER_TYPES}


def host_ports(plan: Plan) -> set[int]:
    return {p["external"] for c in plan.of_type(CONTAINER) for p in c.inputs.get("ports", [])}


def test_a_second_local_stack_declares_disjoint_names_and_ports(local_plan: Plan) -> None:
    ports = {"grafana": 3001, "otlpGrpc": 4327, "otlpHttp": 4328}
    ports |= {"prometheus": 9091, "loki": 3101, "tempo": 3201}
    dev = program.run({"local": {"ports": ports}}, stack="dev")
    assert docker_names(local_plan).isdisjoint(docker_names(dev))
    assert host_ports(local_plan).isdisjoint(host_ports(dev))
    assert all(
        name.startswith("llm-o11y-dev-") or name == "llm-o11y-dev" for name in docker_names(dev)
    )
    # The first local stack keeps the names its volumes already have.
    assert "llm-o11y-grafana-data" in docker_names(local_plan)


@pytest.mark.parametrize("configured", [False, True], ids=["generated", "configured"])
def test_the_admin_password_is_in_no_container_environment(configured: bool) -> None:
    password = "correct-horse-battery-staple"
    plan = program.run({}, secrets={"grafanaAdminPassword": password} if configured else {})
    for declared in plan.of_type(CONTAINER):
        envs = declared.raw_inputs.get("envs", [])
        assert not contains_secret(envs), declared.name
        assert not any("ADMIN_PASSWORD=" in str(e) for e in envs), declared.name
        assert password not in str(envs)
    grafana = plan.named("local-grafana").raw_inputs
    (upload,) = [u for u in grafana["uploads"] if u["file"] == "/etc/grafana/admin-password"]
    assert contains_secret(upload["content"])
    assert "GF_SECURITY_ADMIN_PASSWORD__FILE=/etc/grafana/admin-password" in grafana["envs"]
