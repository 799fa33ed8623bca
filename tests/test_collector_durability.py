"""Over the plan: the local stack's collector keeps what it accepted, in bounded memory.

For every way the local target starts the collector (with and without a JSONL folder), the config
files it uploads are merged in `--config` order as the collector merges them (maps key by key,
lists replaced), and every exporter of the result must queue on disk, on a mounted data volume,
and retry for an explicit window; the container's memory limit and GOMEMLIMIT must agree with
memory_limiter. tests/test_collector_resilience.py shows what these settings do on a real collector.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import program
from tools.synth import Plan

CONFIG_FLAG = "--config="
ENV_DEFAULT = re.compile(r"\$\{env:(\w+):-([^}]*)\}")
GO_DURATION = re.compile(r"^(\d+h)?(\d+m)?(\d+s)?$")


def merged(*documents: dict[str, Any]) -> dict[str, Any]:
    """The collector's merge of several --config files: maps key by key, everything else
    (lists included) replaced by the later file."""

    def merge(base: Any, override: Any) -> Any:
        if isinstance(base, dict) and isinstance(override, dict):
            result = dict(base)
            for key, value in override.items():
                result[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
            return result
        return copy.deepcopy(override)

    result: dict[str, Any] = {}
    for document in documents:
        result = merge(result, document)
    return result


def collector_inputs(plan: Plan) -> dict[str, Any]:
    return plan.named("local-otel-collector").inputs


def effective_config(inputs: dict[str, Any]) -> dict[str, Any]:
    uploads = {upload["file"]: upload["content"] for upload in inputs["uploads"]}
    files = [
        flag.removeprefix(CONFIG_FLAG) for flag in inputs["command"] if flag.startswith(CONFIG_FLAG)
    ]
    return merged(*(yaml.safe_load(uploads[path]) for path in files))


def container_env(inputs: dict[str, Any]) -> dict[str, str]:
    return dict(entry.split("=", 1) for entry in inputs.get("envs") or [])


def with_env_defaults(value: str, env: dict[str, str]) -> str:
    return ENV_DEFAULT.sub(lambda m: env.get(m.group(1), m.group(2)), value)


def durability_problems(config: dict[str, Any], inputs: dict[str, Any]) -> list[str]:
    """What keeps an exporter of this (merged) config from surviving restarts and outages."""
    env = container_env(inputs)
    mounted = [v["containerPath"] for v in inputs["volumes"] if v.get("volumeName")]
    enabled = set(config["service"].get("extensions", []))
    used = {e for p in config["service"]["pipelines"].values() for e in p["exporters"]}
    problems = []
    for name in sorted(used | set(config["exporters"])):
        exporter = config["exporters"][name] or {}
        queue = exporter.get("sending_queue") or {}
        storage = queue.get("storage")
        retry = exporter.get("retry_on_failure") or {}
        window = str(retry.get("max_elapsed_time", ""))
        if not queue.get("enabled") or not storage:
            problems.append(f"{name}: no persistent sending_queue")
        elif storage not in enabled:
            problems.append(f"{name}: its queue storage {storage} is not in service.extensions")
        else:
            directory = with_env_defaults(config["extensions"][storage]["directory"], env)
            if not any(Path(directory).is_relative_to(path) for path in mounted):
                problems.append(f"{name}: queue directory {directory} is on no mounted volume")
        if not retry.get("enabled") or not GO_DURATION.match(window) or window in ("", "0s"):
            problems.append(f"{name}: no explicit retry window (max_elapsed_time {window!r})")
    return problems


@pytest.fixture(scope="module", params=["default", "jsonl", "jsonl-user-identity-hash"])
def collector(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    settings: dict[str, Any] = {}
    secrets = {}
    if request.param.startswith("jsonl"):
        settings = {"local": {"jsonlLogDir": str(tmp_path_factory.mktemp("jsonl"))}}
    if request.param.endswith("hash"):
        settings["userIdentity"] = "hash"
        secrets["userIdentitySalt"] = "durability-salt-0123456789"
    return collector_inputs(program.run(settings, secrets))


def test_every_exporter_queues_on_a_data_volume_and_retries_for_a_window(collector: dict) -> None:
    config = effective_config(collector)

    assert config["exporters"], "no exporters"
    assert durability_problems(config, collector) == []


def test_a_second_config_that_replaces_the_extensions_list_is_caught(collector: dict) -> None:
    config = effective_config(collector)
    broken = merged(config, {"service": {"extensions": ["health_check"]}})

    problems = durability_problems(broken, collector)
    assert problems and all("not in service.extensions" in p for p in problems)


def test_an_exporter_without_a_queue_or_window_is_caught(collector: dict) -> None:
    config = effective_config(collector)
    name = sorted(config["exporters"])[0]
    broken = copy.deepcopy(config)
    del broken["exporters"][name]["sending_queue"]
    broken["exporters"][name]["retry_on_failure"] = {"enabled": True}

    assert durability_problems(broken, collector) == [
        f"{name}: no persistent sending_queue",
        f"{name}: no explicit retry window (max_elapsed_time '')",
    ]


def mebibytes(value: str) -> int:
    found = re.fullmatch(r"(\d+)MiB", value)
    assert found, f"GOMEMLIMIT {value!r} is not in MiB"
    return int(found.group(1))


def test_memory_limit_gomemlimit_and_memory_limiter_agree(collector: dict) -> None:
    limiter = effective_config(collector)["processors"]["memory_limiter"]
    hard, spike = limiter["limit_mib"], limiter["spike_limit_mib"]
    gomemlimit = mebibytes(container_env(collector)["GOMEMLIMIT"])
    container_limit = collector["memory"]

    # The GC works hard from memory_limiter's soft limit on, before data is refused ...
    assert gomemlimit == hard - spike
    # ... at about 80 % of its hard limit (the processor's guidance) ...
    assert 0.75 <= gomemlimit / hard <= 0.85
    # ... and the container's limit leaves a spike's room above the hard limit.
    assert hard + spike <= container_limit


def test_every_pipeline_refuses_first_and_caps_its_batches(collector: dict) -> None:
    config = effective_config(collector)
    batch = config["processors"]["batch"]

    for name, pipeline in config["service"]["pipelines"].items():
        assert pipeline["processors"][0] == "memory_limiter", name
        assert pipeline["processors"][-1] == "batch", name
    assert batch["send_batch_size"] <= batch["send_batch_max_size"]
