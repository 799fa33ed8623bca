"""Checks of the services' native configs in configs/ against the shared contract.

Collector: wiring (every pipeline references defined components, every component is used, processor
order) on each file and on the merge of both, as the collector merges several --config files.
Prometheus: `promtool check config` with a 3.x promtool. Tempo and Loki: the 3.x layout and the
values the dashboards and the Pulumi code rely on. Each check function is also fed a broken config
to show it reports the problem.
"""

import copy
import re
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from tests.support.external import REPO_ROOT, find_tool, tools_required

CONFIGS = REPO_ROOT / "configs"
COLLECTOR_BASE = CONFIGS / "otel-collector" / "config.yaml"
COLLECTOR_JSONL = CONFIGS / "otel-collector" / "jsonl-logs.yaml"
PROMETHEUS_CONFIG = CONFIGS / "prometheus" / "prometheus.yml"
TEMPO_CONFIG = CONFIGS / "tempo" / "tempo.yaml"
LOKI_CONFIG = CONFIGS / "loki" / "loki.yaml"

Config = dict[str, Any]

PIPELINE_SECTIONS = ("receivers", "processors", "exporters")
# Go's time.RFC3339 layout.
RFC3339_GO_LAYOUT = "2006-01-02T15:04:05Z07:00"
LLM_LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
GEN_AI_DIMENSIONS = ["gen_ai.request.model", "gen_ai.operation.name", "gen_ai.provider.name"]
# Blocks and processors Tempo 3.0 removed; any of them stops a 3.x Tempo from starting.
TEMPO_2X_BLOCKS = ("ingester", "ingester_client", "compactor", "metrics_generator_client")

# ${env:NAME:-default} in collector configs; ${NAME:-default} in Loki/Tempo with -config.expand-env.
COLLECTOR_ENV_REFERENCE = re.compile(r"^\$\{env:(?P<name>[A-Z_][A-Z0-9_]*):-(?P<default>[^}]+)\}$")
SHELL_ENV_REFERENCE = re.compile(r"^\$\{(?P<name>[A-Z_][A-Z0-9_]*):-(?P<default>[^}]+)\}$")
ANY_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


def load_yaml(path: Path) -> Config:
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict), f"{path} is not a YAML mapping"
    return loaded


def merge_collector_configs(*configs: Config) -> Config:
    """Merge like the collector merges --config files: maps key by key, later values win, lists
    (pipeline component lists, service.extensions) are replaced whole."""
    merged: Config = {}
    for config in configs:
        merged = _merge_maps(merged, config)
    return merged


def _merge_maps(base: Config, override: Config) -> Config:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_maps(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def component_type(component_id: str) -> str:
    """`otlp_http/loki` -> `otlp_http`."""
    return component_id.split("/", 1)[0]


def collector_wiring_problems(config: Config) -> list[str]:
    """Everything that would make the collector refuse the config or silently drop a component."""
    pipelines: Config = config.get("service", {}).get("pipelines", {})
    used: dict[str, set[str]] = {section: set() for section in PIPELINE_SECTIONS}
    problems: list[str] = []
    for pipeline_id, pipeline in pipelines.items():
        for section in PIPELINE_SECTIONS:
            defined = config.get(section) or {}
            listed = pipeline.get(section) or []
            if not listed and section != "processors":
                problems.append(f"pipeline {pipeline_id} has no {section}")
            for component_id in listed:
                used[section].add(component_id)
                if component_id not in defined:
                    problems.append(f"pipeline {pipeline_id}: {component_id} is not defined")
        problems += processor_order_problems(pipeline_id, pipeline.get("processors") or [])
    for section in PIPELINE_SECTIONS:
        for component_id in config.get(section) or {}:
            if component_id not in used[section]:
                problems.append(f"{component_id} is defined but no pipeline uses it")
    return problems + extension_problems(config) + storage_problems(config)


def processor_order_problems(pipeline_id: str, processors: list[str]) -> list[str]:
    types = [component_type(processor) for processor in processors]
    problems = []
    if not types or types[0] != "memory_limiter":
        problems.append(f"pipeline {pipeline_id}: memory_limiter must be the first processor")
    if not types or types[-1] != "batch":
        problems.append(f"pipeline {pipeline_id}: batch must be the last processor")
    converts = "delta_to_cumulative" in types
    if component_type(pipeline_id) == "metrics" and not converts:
        problems.append(f"pipeline {pipeline_id}: metrics pipelines need delta_to_cumulative")
    if component_type(pipeline_id) != "metrics" and converts:
        problems.append(f"pipeline {pipeline_id}: delta_to_cumulative only handles metrics")
    return problems


def extension_problems(config: Config) -> list[str]:
    defined = set(config.get("extensions") or {})
    enabled = config.get("service", {}).get("extensions") or []
    problems = [
        f"extension {name} is enabled but not defined" for name in enabled if name not in defined
    ]
    return problems + [
        f"extension {name} is defined but not in service.extensions"
        for name in sorted(defined - set(enabled))
    ]


def storage_problems(config: Config) -> list[str]:
    """A receiver's `storage` must name an extension that is defined and enabled."""
    enabled = set(config.get("service", {}).get("extensions") or [])
    return [
        f"{receiver_id} stores offsets in {settings['storage']}, which is not enabled"
        for receiver_id, settings in (config.get("receivers") or {}).items()
        if isinstance(settings, dict)
        and "storage" in settings
        and settings["storage"] not in enabled
    ]


def expand_collector_env(value: str, environ: Mapping[str, str]) -> str:
    """What the collector's env provider makes of `${env:NAME:-default}` (default when unset)."""
    match = COLLECTOR_ENV_REFERENCE.match(value)
    if match is None:
        return value
    return environ.get(match["name"], match["default"])


def placeholder_problems(text: str, reference: re.Pattern[str]) -> list[str]:
    """Placeholders without a default expand to "" when the variable is unset and break startup."""
    return [
        f"{placeholder} is not of the form {reference.pattern}"
        for placeholder in ANY_PLACEHOLDER.findall(text)
        if not reference.match(placeholder)
    ]


def tempo_v3_problems(config: Config) -> list[str]:
    problems = [f"Tempo 3.x has no {block} block" for block in TEMPO_2X_BLOCKS if block in config]
    generator = config.get("metrics_generator", {})
    if "local_blocks" in generator.get("processor", {}) or "traces_storage" in generator:
        problems.append("Tempo 3.x removed the local-blocks processor and its traces_storage")
    processors = config.get("overrides", {}).get("defaults", {}).get("metrics_generator", {})
    if "local-blocks" in processors.get("processors", []):
        problems.append("Tempo 3.x removed the local-blocks processor")
    if "metrics_generator_processors" in config.get("overrides", {}):
        problems.append("Tempo 3.x refuses the legacy flat overrides format")
    return problems


def loki_retention_problems(config: Config) -> list[str]:
    compactor = config.get("compactor", {})
    problems = []
    if compactor.get("retention_enabled") is not True:
        problems.append("compactor.retention_enabled must be true or retention_period does nothing")
    if not compactor.get("delete_request_store"):
        problems.append("compactor.delete_request_store is required when retention is enabled")
    if not config.get("limits_config", {}).get("retention_period"):
        problems.append("limits_config.retention_period is not set")
    return problems


@pytest.fixture(scope="module")
def collector_base() -> Config:
    return load_yaml(COLLECTOR_BASE)


@pytest.fixture(scope="module")
def collector_jsonl() -> Config:
    return load_yaml(COLLECTOR_JSONL)


@pytest.fixture(scope="module")
def collector_merged(collector_base: Config, collector_jsonl: Config) -> Config:
    return merge_collector_configs(collector_base, collector_jsonl)


@pytest.fixture(scope="module")
def tempo() -> Config:
    return load_yaml(TEMPO_CONFIG)


@pytest.fixture(scope="module")
def loki() -> Config:
    return load_yaml(LOKI_CONFIG)


@pytest.fixture(scope="module")
def prometheus() -> Config:
    return load_yaml(PROMETHEUS_CONFIG)


# --- Collector -----------------------------------------------------------------------------------


def test_merge_replaces_lists_and_merges_maps() -> None:
    base = {"service": {"extensions": ["a"], "pipelines": {"logs": {"receivers": ["x"]}}}}
    extra = {"service": {"extensions": ["b"], "pipelines": {"logs/more": {"receivers": ["y"]}}}}
    merged = merge_collector_configs(base, extra)
    assert merged["service"]["extensions"] == ["b"]
    assert set(merged["service"]["pipelines"]) == {"logs", "logs/more"}
    assert base["service"]["extensions"] == ["a"], "merging must not modify its inputs"


def test_base_collector_config_is_wired(collector_base: Config) -> None:
    assert collector_wiring_problems(collector_base) == []


def test_merged_collector_config_is_wired(collector_merged: Config) -> None:
    assert collector_wiring_problems(collector_merged) == []
    pipelines = set(collector_merged["service"]["pipelines"])
    assert pipelines == {"metrics", "logs", "traces", "logs/jsonl"}


def test_jsonl_file_only_works_on_top_of_the_base(collector_jsonl: Config) -> None:
    problems = collector_wiring_problems(collector_jsonl)
    assert "pipeline logs/jsonl: memory_limiter is not defined" in problems
    assert "extension health_check is enabled but not defined" in problems


def _drop_loki_exporter(config: Config) -> None:
    del config["exporters"]["otlp_http/loki"]


def _add_unused_processor(config: Config) -> None:
    config["processors"]["attributes/unused"] = {}


def _put_batch_first(config: Config) -> None:
    config["service"]["pipelines"]["traces"]["processors"] = ["batch", "memory_limiter"]


def _stop_converting_deltas(config: Config) -> None:
    config["service"]["pipelines"]["metrics"]["processors"] = ["memory_limiter", "batch"]


def _convert_deltas_in_logs(config: Config) -> None:
    logs = config["service"]["pipelines"]["logs"]
    logs["processors"] = ["memory_limiter", "delta_to_cumulative", "batch"]


def _disable_health_check(config: Config) -> None:
    config["service"]["extensions"] = ["file_storage/llm_cost"]


def _store_offsets_nowhere(config: Config) -> None:
    config["receivers"]["file_log/llm_cost"]["storage"] = "file_storage/missing"


def _drop_exporters(config: Config) -> None:
    config["service"]["pipelines"]["traces"]["exporters"] = []


@pytest.mark.parametrize(
    ("mutate", "expected_problem"),
    [
        (_drop_loki_exporter, "pipeline logs: otlp_http/loki is not defined"),
        (_add_unused_processor, "attributes/unused is defined but no pipeline uses it"),
        (_put_batch_first, "pipeline traces: memory_limiter must be the first processor"),
        (_put_batch_first, "pipeline traces: batch must be the last processor"),
        (_stop_converting_deltas, "pipeline metrics: metrics pipelines need delta_to_cumulative"),
        (_convert_deltas_in_logs, "pipeline logs: delta_to_cumulative only handles metrics"),
        (_disable_health_check, "extension health_check is defined but not in service.extensions"),
        (_store_offsets_nowhere, "file_log/llm_cost stores offsets in file_storage/missing"),
        (_drop_exporters, "pipeline traces has no exporters"),
    ],
)
def test_wiring_check_reports_broken_configs(
    collector_merged: Config, mutate: Callable[[Config], None], expected_problem: str
) -> None:
    broken = copy.deepcopy(collector_merged)
    mutate(broken)
    problems = collector_wiring_problems(broken)
    assert any(problem.startswith(expected_problem) for problem in problems), problems


def test_otlp_receiver_listens_on_all_container_interfaces(collector_base: Config) -> None:
    protocols = collector_base["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"


@pytest.mark.parametrize(
    ("exporter_id", "variable", "default"),
    [
        ("otlp_http/prometheus", "PROMETHEUS_OTLP_ENDPOINT", "http://prometheus:9090/api/v1/otlp"),
        ("otlp_http/loki", "LOKI_OTLP_ENDPOINT", "http://loki:3100/otlp"),
        ("otlp_grpc/tempo", "TEMPO_OTLP_ENDPOINT", "tempo:4317"),
    ],
)
def test_exporter_endpoints_default_to_stack_services_and_follow_env(
    collector_base: Config, exporter_id: str, variable: str, default: str
) -> None:
    endpoint = collector_base["exporters"][exporter_id]["endpoint"]
    assert endpoint == f"${{env:{variable}:-{default}}}"
    assert expand_collector_env(endpoint, {}) == default
    assert expand_collector_env(endpoint, {variable: "127.0.0.1:54321"}) == "127.0.0.1:54321"


def test_tempo_exporter_sends_plain_grpc(collector_base: Config) -> None:
    assert collector_base["exporters"]["otlp_grpc/tempo"]["tls"] == {"insecure": True}


def test_collector_serves_health_and_its_own_metrics(collector_base: Config) -> None:
    assert collector_base["extensions"]["health_check"]["endpoint"] == "0.0.0.0:13133"
    # The container healthcheck is `promtool check healthy`, which requests /-/healthy.
    assert collector_base["extensions"]["health_check"]["path"] == "/-/healthy"
    readers = collector_base["service"]["telemetry"]["metrics"]["readers"]
    exporter = {
        "host": "0.0.0.0",
        "port": 8888,
        # The names in docs/telemetry.md keep the `_total` and unit suffixes.
        "without_type_suffix": False,
        "without_units": False,
    }
    assert readers == [{"pull": {"exporter": {"prometheus": exporter}}}]


@pytest.mark.parametrize("path", [COLLECTOR_BASE, COLLECTOR_JSONL])
def test_collector_placeholders_have_defaults(path: Path) -> None:
    assert placeholder_problems(path.read_text(), COLLECTOR_ENV_REFERENCE) == []


def test_placeholder_check_reports_missing_default() -> None:
    problems = placeholder_problems("endpoint: ${env:LOKI_OTLP_ENDPOINT}", COLLECTOR_ENV_REFERENCE)
    assert problems and problems[0].startswith("${env:LOKI_OTLP_ENDPOINT} is not of the form")


def test_jsonl_receiver_reads_the_mounted_folder_once(collector_jsonl: Config) -> None:
    receiver = collector_jsonl["receivers"]["file_log/llm_cost"]
    assert receiver["include"] == ["/var/log/llm-cost/*.jsonl"]
    assert receiver["start_at"] == "beginning"
    assert receiver["storage"] in collector_jsonl["extensions"]
    assert receiver["resource"] == {"service.name": "llm-cost-jsonl"}


def test_jsonl_receiver_keeps_raw_line_and_parses_timestamp(collector_jsonl: Config) -> None:
    operators = collector_jsonl["receivers"]["file_log/llm_cost"]["operators"]
    by_type = {operator["type"]: operator for operator in operators}
    assert by_type["json_parser"]["parse_to"] == "attributes", "the body must stay the raw line"
    assert all(operator.get("parse_to", "attributes") != "body" for operator in operators)
    time_parser = by_type["time_parser"]
    assert time_parser["parse_from"] == "attributes.timestamp"
    assert (time_parser["layout_type"], time_parser["layout"]) == ("gotime", RFC3339_GO_LAYOUT)
    assert "timestamp" in time_parser["if"], "records without a timestamp must pass unparsed"
    assert by_type["retain"]["fields"] == ['attributes["log.file.name"]']


# --- Prometheus ----------------------------------------------------------------------------------


def promtool_3(tmp_path: Path) -> str:
    """A promtool that knows prometheus.yml's `otlp:` section (3.x); Debian's 2.42 rejects it.

    Probed by capability: a promtool built with plain `go build` prints no version number.
    """
    path = find_tool("promtool", "`make tools` builds promtool 3.14 into .cache/bin")
    probe = tmp_path / "otlp-probe.yml"
    probe.write_text("otlp:\n  translation_strategy: UnderscoreEscapingWithSuffixes\n")
    if promtool_check_config(path, probe).returncode != 0:
        message = f"{path} does not know the otlp section (promtool < 3); `make tools` builds 3.14"
        if tools_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def promtool_check_config(promtool: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, "check", "config", str(path)], capture_output=True, text=True, timeout=60
    )


def test_promtool_accepts_prometheus_config(tmp_path: Path) -> None:
    result = promtool_check_config(promtool_3(tmp_path), PROMETHEUS_CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rejects_a_broken_prometheus_config(tmp_path: Path, prometheus: Config) -> None:
    broken = copy.deepcopy(prometheus)
    broken["otlp"]["translation_strategy"] = "NoSuchStrategy"
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(broken))
    result = promtool_check_config(promtool_3(tmp_path), path)
    assert result.returncode != 0
    assert "NoSuchStrategy" in result.stdout + result.stderr


def test_prometheus_otlp_translation_and_promoted_attributes(prometheus: Config) -> None:
    otlp = prometheus["otlp"]
    assert otlp["promote_resource_attributes"] == [
        "service.name",
        "service.namespace",
        "service.version",
        "deployment.environment",
        "deployment.environment.name",
        "team",
        "cost_center",
    ]
    assert otlp["translation_strategy"] == "UnderscoreEscapingWithSuffixes"
    assert prometheus["storage"]["tsdb"]["out_of_order_time_window"] == "30m"
    assert prometheus["global"]["scrape_interval"] == "15s"


def test_prometheus_scrapes_every_service(prometheus: Config) -> None:
    targets = {
        job["job_name"]: [target for group in job["static_configs"] for target in group["targets"]]
        for job in prometheus["scrape_configs"]
    }
    assert targets == {
        "prometheus": ["localhost:9090"],
        "otel-collector": ["otel-collector:8888"],
        "loki": ["loki:3100"],
        "tempo": ["tempo:3200"],
        "grafana": ["grafana:3000"],
    }


# --- Tempo ---------------------------------------------------------------------------------------


def test_tempo_config_has_the_3x_layout(tempo: Config) -> None:
    assert tempo_v3_problems(tempo) == []


def test_tempo_check_reports_2x_config(tempo: Config) -> None:
    broken = copy.deepcopy(tempo)
    broken["ingester"] = {"max_block_duration": "5m"}
    broken["overrides"]["defaults"]["metrics_generator"]["processors"].append("local-blocks")
    assert tempo_v3_problems(broken) == [
        "Tempo 3.x has no ingester block",
        "Tempo 3.x removed the local-blocks processor",
    ]


def test_tempo_remote_writes_to_prometheus_with_exemplars(tempo: Config) -> None:
    [remote_write] = tempo["metrics_generator"]["storage"]["remote_write"]
    url = urlparse(remote_write["url"])
    assert (url.hostname, url.port, url.path) == ("prometheus", 9090, "/api/v1/write")
    assert remote_write["send_exemplars"] is True


def test_tempo_generates_span_metrics_and_service_graphs(tempo: Config) -> None:
    defaults = tempo["overrides"]["defaults"]["metrics_generator"]
    assert sorted(defaults["processors"]) == ["service-graphs", "span-metrics"]
    assert defaults["generate_native_histograms"] == "classic"
    processor = tempo["metrics_generator"]["processor"]
    assert processor["span_metrics"]["dimensions"] == GEN_AI_DIMENSIONS
    assert processor["span_metrics"]["histogram_buckets"] == LLM_LATENCY_BUCKETS
    assert processor["service_graphs"]["histogram_buckets"] == LLM_LATENCY_BUCKETS


def test_tempo_receives_otlp_and_stores_locally(tempo: Config) -> None:
    protocols = tempo["distributor"]["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"
    trace_storage = tempo["storage"]["trace"]
    assert trace_storage["backend"] == "local"
    assert trace_storage["local"]["path"].startswith("/var/tempo/")
    assert trace_storage["wal"]["path"].startswith("/var/tempo/")
    assert tempo["metrics_generator"]["storage"]["path"].startswith("/var/tempo/")


def test_tempo_block_retention_comes_from_env(tempo: Config) -> None:
    compaction = tempo["overrides"]["defaults"]["compaction"]
    assert compaction["block_retention"] == "${TEMPO_BLOCK_RETENTION:-336h}"
    assert placeholder_problems(TEMPO_CONFIG.read_text(), SHELL_ENV_REFERENCE) == []


# --- Loki ----------------------------------------------------------------------------------------


def test_loki_schema_is_v13_tsdb_on_filesystem(loki: Config) -> None:
    current = loki["schema_config"]["configs"][-1]
    assert (current["schema"], current["store"], current["object_store"]) == (
        "v13",
        "tsdb",
        "filesystem",
    )
    assert current["index"]["period"] == "24h"
    assert "filesystem" in loki["common"]["storage"]


def test_loki_retention_runs_in_the_compactor(loki: Config) -> None:
    assert loki_retention_problems(loki) == []
    assert loki["limits_config"]["retention_period"] == "${LOKI_RETENTION_PERIOD:-744h}"


@pytest.mark.parametrize(
    ("path", "value", "expected_problem"),
    [
        (("compactor", "retention_enabled"), False, "compactor.retention_enabled must be true"),
        (("compactor", "delete_request_store"), None, "compactor.delete_request_store is required"),
        (("limits_config", "retention_period"), None, "limits_config.retention_period is not set"),
    ],
)
def test_loki_retention_check_reports_broken_configs(
    loki: Config, path: tuple[str, str], value: object, expected_problem: str
) -> None:
    broken = copy.deepcopy(loki)
    broken[path[0]][path[1]] = value
    problems = loki_retention_problems(broken)
    assert any(problem.startswith(expected_problem) for problem in problems), problems


def test_loki_accepts_otlp_with_structured_metadata(loki: Config) -> None:
    assert loki["auth_enabled"] is False
    assert loki["limits_config"]["allow_structured_metadata"] is True
    assert loki["server"]["http_listen_port"] == 3100


def test_loki_placeholders_have_defaults() -> None:
    text = LOKI_CONFIG.read_text()
    assert "${LOKI_RETENTION_PERIOD:-744h}" in text
    assert placeholder_problems(text, SHELL_ENV_REFERENCE) == []
    assert placeholder_problems("${LOKI_RETENTION_PERIOD}", SHELL_ENV_REFERENCE) != []
