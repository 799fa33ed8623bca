"""A model of one machine running the local stack over time: `make up`, `make down`, `make up`.

The program runs under mocks; this module plays the parts the mocks leave out:
- Pulumi's engine: an unchanged resource keeps its outputs (a RandomPassword keeps its value), a
  changed or new one gets new outputs; dropping a protected resource fails the update;
  `pulumi destroy --exclude-protected` deletes everything except protected resources and what
  they depend on (parents, providers, dependencies), which would have to go first.
- Docker: a named volume's data lives until the volume is deleted; a container whose inputs
  changed is recreated and runs its entrypoint.
- Grafana's image: the declared entrypoint runs for real under /bin/sh, with stand-ins for the
  image's `/run.sh` (which reads `GF_*__FILE` variables, as Grafana's does) and `grafana`
  binary: `grafana server` writes the admin password into a new database only, and
  `grafana cli admin reset-admin-password --password-from-stdin` rewrites it in an existing one.
"""

from __future__ import annotations

import itertools
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import program
from tools.synth import _SECRET_SIG, _SIG, Plan

GRAFANA_HOME = "/usr/share/grafana"
RUN_SH = """#!/bin/sh
# Grafana's run.sh: each GF_<NAME>__FILE variable becomes GF_<NAME> from the file.
if [ -n "$GF_SECURITY_ADMIN_PASSWORD__FILE" ]; then
  GF_SECURITY_ADMIN_PASSWORD="$(cat "$GF_SECURITY_ADMIN_PASSWORD__FILE")"
  export GF_SECURITY_ADMIN_PASSWORD
fi
exec grafana server
"""
GRAFANA = """#!/bin/sh
db="$GF_PATHS_DATA/grafana.db"
case "$1" in
  server)
    # The admin password is applied when the database is created, never again.
    [ -f "$db" ] || printf '%s' "${GF_SECURITY_ADMIN_PASSWORD:-admin}" > "$db" ;;
  cli)
    case "$*" in
      *"admin reset-admin-password --password-from-stdin"*) ;;
      *) echo "unexpected: grafana $*" >&2; exit 2 ;;
    esac
    [ -f "$db" ] || { echo "could not read user from database" >&2; exit 1; }
    cat > "$db" ;;
  *) echo "unexpected: grafana $*" >&2; exit 2 ;;
esac
"""


def reveal(value: Any) -> Any:
    """A wire value with Pulumi's secret wrapper removed."""
    if isinstance(value, dict):
        if value.get(_SIG) == _SECRET_SIG:
            return reveal(value["value"])
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


@dataclass
class Deployed:
    type: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    protect: bool = False
    depends_on: set[str] = field(default_factory=set)


class ProtectedResourceDropped(Exception):
    """What `pulumi up` reports when the program stops declaring a protected resource."""


@dataclass
class Machine:
    root: Path
    state: dict[str, Deployed] = field(default_factory=dict)
    last_plan: Plan | None = None
    _serial: itertools.count = field(default_factory=itertools.count)

    @property
    def volumes(self) -> Path:
        return self.root / "volumes"

    def up(self, secrets: dict[str, str] | None = None) -> Plan:
        """`make up`: run the program, apply the differences, start what was (re)created."""
        outputs: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {}

        def engine(typ: str, name: str, inputs: dict[str, Any], computed: dict[str, Any]) -> dict:
            old = self.state.get(name)
            if old is not None and old.type == typ and old.inputs == inputs:
                result = old.outputs
            elif typ == "random:index/randomPassword:RandomPassword":
                result = {**computed, "result": f"generated-{next(self._serial)}"}
            else:
                result = computed
            outputs[name] = (typ, inputs, result)
            return result

        plan = program.run({}, secrets or {}, stack="local", outputs_hook=engine)
        declared = {r.name: r for r in plan.resources}
        dropped = [n for n, d in self.state.items() if n not in declared and d.protect]
        if dropped:
            raise ProtectedResourceDropped(f"cannot delete protected resources {dropped}")
        changed = [
            name
            for name, (typ, inputs, _) in outputs.items()
            if name not in self.state or self.state[name].inputs != inputs
        ]
        new_state = {}
        for name, resource in declared.items():
            typ, inputs, result = outputs.get(name, (resource.type, resource.inputs, {}))
            dependencies = set(resource.options.get("dependsOn", []))
            dependencies |= {d for d in (resource.parent, resource.provider) if d}
            new_state[name] = Deployed(
                typ, inputs, result, bool(resource.options.get("protect")), dependencies
            )
        for name in set(self.state) - set(new_state):
            self._delete(self.state[name])
        self.state = new_state
        for name in changed:
            self._create(declared[name].type, declared[name].raw_inputs)
        self.last_plan = plan
        return plan

    def down(self) -> None:
        """`make down`: `pulumi destroy --exclude-protected`."""
        keep = {name for name, d in self.state.items() if d.protect}
        while True:
            more = {
                dep for name in keep for dep in self.state[name].depends_on if dep in self.state
            }
            if more <= keep:
                break
            keep |= more
        for name in set(self.state) - keep:
            self._delete(self.state.pop(name))

    def grafana_database_password(self) -> str:
        return (self.volumes / "llm-o11y-grafana-data" / "grafana.db").read_text()

    def provider_password(self) -> str:
        assert self.last_plan is not None
        auth = reveal(self.last_plan.named("local-grafana-provider").raw_inputs["auth"])
        return auth.split(":", 1)[1]

    def make_password(self) -> str:
        """What `make password` prints: the stack output of the last update."""
        assert self.last_plan is not None
        return self.last_plan.revealed["grafanaAdminPassword"]

    def _delete(self, deployed: Deployed) -> None:
        if deployed.type == "docker:index/volume:Volume":
            volume = self.volumes / deployed.inputs["name"]
            for file in volume.glob("*"):
                file.unlink()
            if volume.exists():
                volume.rmdir()

    def _create(self, typ: str, raw_inputs: dict[str, Any]) -> None:
        inputs = reveal(raw_inputs)
        if typ == "docker:index/volume:Volume":
            (self.volumes / inputs["name"]).mkdir(parents=True, exist_ok=True)
        if typ == "docker:index/container:Container" and "grafana/grafana" in inputs["image"]:
            self._start_grafana(inputs)

    def _start_grafana(self, inputs: dict[str, Any]) -> None:
        rootfs = self.root / f"grafana-rootfs-{next(self._serial)}"
        image_bin = rootfs / "usr/share/grafana/bin"
        image_bin.mkdir(parents=True)
        for name, text in {"grafana": GRAFANA, "run.sh": RUN_SH}.items():
            (image_bin / name).write_text(text)
            (image_bin / name).chmod(stat.S_IRWXU)
        for upload in inputs.get("uploads", []):
            target = rootfs / upload["file"].lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(upload["content"])
        (data,) = [
            self.volumes / v["volumeName"]
            for v in inputs["volumes"]
            if v["containerPath"] == "/var/lib/grafana"
        ]
        # The image's ENV, then the container's; paths inside the container map into rootfs.
        env = {
            "PATH": f"{image_bin}:/usr/bin:/bin",
            "GF_PATHS_HOME": GRAFANA_HOME,
            "GF_PATHS_CONFIG": "/etc/grafana/grafana.ini",
            "GF_PATHS_DATA": str(data),
        }
        for entry in inputs.get("envs", []):
            key, value = entry.split("=", 1)
            env[key] = str(rootfs / value.lstrip("/")) if key.endswith("__FILE") else value
        argv = [*(inputs.get("entrypoints") or ["/run.sh"]), *(inputs.get("command") or [])]
        argv = [part.replace("/run.sh", str(image_bin / "run.sh")) for part in argv]
        result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        assert result.returncode == 0, (
            f"grafana container exited {result.returncode}: {result.stderr}"
        )
