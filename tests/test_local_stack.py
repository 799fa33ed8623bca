"""The local target under mocks: what `pulumi up -s local` would declare, and with which inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.local_stack import USER_IDENTITY_SALT_FILE
from components.versions import IMAGES
from tests.support import program
from tests.support.external import REPO_ROOT
from tools.synth import Plan, contains_secret, synth

SERVICES = ("otel-collector", "prometheus", "loki", "tempo", "grafana")
CONTAINER = "docker:index/container:Container"
DATASOURCE = "grafana:oss/dataSource:DataSource"


@pytest.fixture(scope="module")
def local_plan() -> Plan:
    return synth("local")


def container(plan: Plan, service: str) -> dict:
    return plan.named(f"local-{service}").inputs


def test_one_network_that_every_container_joins(local_plan: Plan) -> None:
    networks = local_plan.of_type("docker:index/network:Network")
    assert [n.inputs["name"] for n in networks] == ["llm-o11y"]
    for service in SERVICES:
        attached = container(local_plan, service)["networksAdvanced"]
        assert attached == [{"aliases": [service], "name": "llm-o11y"}]


def test_five_services_run_the_pinned_images(local_plan: Plan) -> None:
    services = [c for c in local_plan.of_type(CONTAINER) if c.inputs["restart"] != "no"]
    assert sorted(c.inputs["name"] for c in services) == sorted(f"llm-o11y-{s}" for s in SERVICES)
    for service in SERVICES:
        image = local_plan.named(f"local-{service}-image").inputs
        assert image["name"] == IMAGES[service]
        assert ":" in image["name"] and not image["name"].endswith(":latest")
        assert image["keepLocally"] is True
        assert container(local_plan, service)["image"] == f"{IMAGES[service]}@sha256:mock"


def test_stateful_services_keep_data_on_protected_named_volumes(local_plan: Plan) -> None:
    volumes = {v.inputs["name"]: v for v in local_plan.of_type("docker:index/volume:Volume")}
    expected = {
        "prometheus": "/prometheus",
        "loki": "/loki",
        "tempo": "/var/tempo",
        "grafana": "/var/lib/grafana",
        "otel-collector": "/var/lib/otelcol/file_storage",
    }
    data_volumes = sorted(name for name in volumes if name.endswith("-data"))
    assert data_volumes == sorted(f"llm-o11y-{s}-data" for s in expected)
    for service, path in expected.items():
        assert volumes[f"llm-o11y-{service}-data"].options["protect"] is True
        mounts = container(local_plan, service)["volumes"]
        assert {"containerPath": path, "volumeName": f"llm-o11y-{service}-data"} in mounts


def test_ports_bind_to_loopback_only_by_default(local_plan: Plan) -> None:
    published = {
        service: {
            (p["internal"], p["external"], p["ip"]) for p in container(local_plan, service)["ports"]
        }
        for service in SERVICES
    }
    assert published == {
        "otel-collector": {(4317, 4317, "127.0.0.1"), (4318, 4318, "127.0.0.1")},
        "prometheus": {(9090, 9090, "127.0.0.1")},
        "loki": {(3100, 3100, "127.0.0.1")},
        "tempo": {(3200, 3200, "127.0.0.1")},
        "grafana": {(3000, 3000, "127.0.0.1")},
    }


def test_bind_address_and_ports_come_from_settings() -> None:
    plan = program.run({"local": {"bindAddress": "10.1.2.3", "ports": {"grafana": 3300}}})
    grafana = container(plan, "grafana")
    assert grafana["ports"] == [{"external": 3300, "internal": 3000, "ip": "10.1.2.3"}]
    assert plan.outputs["grafanaUrl"] == "http://10.1.2.3:3300"
    assert "GF_SERVER_ROOT_URL=http://10.1.2.3:3300/" in grafana["envs"]


def test_a_bind_beyond_loopback_is_warned_about_port_by_port() -> None:
    from components.local_stack import exposure_warning
    from components.settings import parse_settings

    def warning(bind: str) -> str | None:
        local = {"bindAddress": bind, "ports": {"loki": 3101}}
        return exposure_warning(parse_settings({"local": json.dumps(local)}, set()).local)

    assert warning("127.0.0.1") is None
    assert warning("::1") is None
    text = warning("192.168.1.20")
    assert text is not None
    for exposed in ("Prometheus http://192.168.1.20:9090", "Loki       http://192.168.1.20:3101"):
        assert exposed in text
    assert "Tempo      http://192.168.1.20:3200" in text
    assert "192.168.1.20:4317 (gRPC) and 192.168.1.20:4318 (HTTP)" in text
    assert "firewall" in text and "no login" in text
    assert "http://[fd00::5]:3000" in (warning("fd00::5") or "")
    # Every interface, when asked for: warned; clients (provider, root URL) use loopback.
    everywhere = warning("0.0.0.0") or ""
    assert "every interface" in everywhere and "Prometheus http://127.0.0.1:9090" in everywhere


def test_a_bind_to_every_interface_keeps_grafana_reachable_on_loopback() -> None:
    plan = program.run({"local": {"bindAddress": "0.0.0.0"}})
    grafana = plan.named("local-grafana").inputs
    assert {p["ip"] for p in grafana["ports"]} == {"0.0.0.0"}
    assert "GF_SERVER_ROOT_URL=http://127.0.0.1:3000/" in grafana["envs"]


def test_every_container_has_a_healthcheck_restart_policy_and_replaces_safely(
    local_plan: Plan,
) -> None:
    for service in SERVICES:
        declared = local_plan.named(f"local-{service}")
        inputs = declared.inputs
        assert inputs["healthcheck"]["tests"][0] == "CMD", service
        assert len(inputs["healthcheck"]["tests"]) >= 2, service
        assert inputs["restart"] == "unless-stopped"
        assert inputs["wait"] is True
        # A fixed container name and host port collide unless the old one goes first.
        assert declared.options["deleteBeforeReplace"] is True, service
        # Stopped, not killed, when replaced or removed: the collector flushes what it holds.
        assert inputs["destroyGraceSeconds"] >= 30, service


def test_collector_health_is_probed_with_promtool_from_the_setup_job(local_plan: Plan) -> None:
    setup = local_plan.named("local-otel-collector-setup")
    assert setup.inputs["image"] == f"{IMAGES['prometheus']}@sha256:mock"
    assert setup.inputs["mustRun"] is False and setup.inputs["restart"] == "no"
    assert setup.inputs["attach"] is True
    assert "cp /bin/promtool /probe/promtool" in setup.inputs["command"][0]
    assert "chown -R 10001:10001 /collector-state" in setup.inputs["command"][0]
    collector = local_plan.named("local-otel-collector")
    assert "local-otel-collector-setup" in collector.options["dependsOn"]
    assert {
        "containerPath": "/probe",
        "readOnly": True,
        "volumeName": "llm-o11y-otel-collector-probe",
    } in collector.inputs["volumes"]
    probe = collector.inputs["healthcheck"]["tests"]
    assert probe == ["CMD", "/probe/promtool", "check", "healthy", "--url=http://127.0.0.1:13133"]


def test_configs_reach_the_containers_from_the_configs_folder(local_plan: Plan) -> None:
    root = Path(__file__).resolve().parent.parent / "configs"
    expected = {
        "otel-collector": ("/etc/otelcol-contrib/config.yaml", "otel-collector/config.yaml"),
        "prometheus": ("/etc/prometheus/prometheus.yml", "prometheus/prometheus.yml"),
        "loki": ("/etc/loki/loki.yaml", "loki/loki.yaml"),
        "tempo": ("/etc/tempo/tempo.yaml", "tempo/tempo.yaml"),
    }
    for service, (inside, source) in expected.items():
        uploads = {u["file"]: u["content"] for u in container(local_plan, service)["uploads"]}
        assert uploads[inside] == (root / source).read_text(encoding="utf-8")


def test_retention_settings_reach_each_store() -> None:
    plan = program.run({"local": {"retentionDays": {"prometheus": 30, "loki": 7, "tempo": 3}}})
    assert "--storage.tsdb.retention.time=30d" in container(plan, "prometheus")["command"]
    assert "LOKI_RETENTION_PERIOD=168h" in container(plan, "loki")["envs"]
    assert "TEMPO_BLOCK_RETENTION=72h" in container(plan, "tempo")["envs"]


def test_prometheus_receives_otlp_remote_write_and_exemplars(local_plan: Plan) -> None:
    command = container(local_plan, "prometheus")["command"]
    for flag in (
        "--web.enable-otlp-receiver",
        "--web.enable-remote-write-receiver",
        "--enable-feature=exemplar-storage,created-timestamp-zero-ingestion",
    ):
        assert flag in command


def test_jsonl_folder_is_mounted_read_only_with_the_filelog_config(tmp_path: Path) -> None:
    mount = {"containerPath": "/var/log/llm-cost", "hostPath": str(tmp_path), "readOnly": True}
    without = container(program.run({}), "otel-collector")
    assert mount not in without["volumes"]
    assert "--config=/etc/otelcol-contrib/jsonl-logs.yaml" not in without["command"]
    plan = program.run({"local": {"jsonlLogDir": str(tmp_path)}})
    collector = container(plan, "otel-collector")
    assert mount in collector["volumes"]
    assert "--config=/etc/otelcol-contrib/jsonl-logs.yaml" in collector["command"]
    assert "/etc/otelcol-contrib/jsonl-logs.yaml" in {u["file"] for u in collector["uploads"]}


def test_grafana_has_no_anonymous_access_no_signup_and_a_secret_password(local_plan: Plan) -> None:
    declared = local_plan.named("local-grafana")
    envs = declared.inputs["envs"]
    assert "GF_AUTH_ANONYMOUS_ENABLED=false" in envs
    assert "GF_USERS_ALLOW_SIGN_UP=false" in envs
    assert "GF_SECURITY_ADMIN_PASSWORD__FILE=/etc/grafana/admin-password" in envs
    uploads = declared.raw_inputs["uploads"]
    password_file = next(u for u in uploads if u["file"] == "/etc/grafana/admin-password")
    # Secret on the wire, as Pulumi sees it, not merely hidden by synth.
    assert contains_secret(password_file["content"])
    assert local_plan.outputs["grafanaAdminPassword"] == "[secret]"


def test_a_configured_admin_password_stays_secret() -> None:
    password = "correct-horse-battery-staple"
    plan = program.run({}, secrets={"grafanaAdminPassword": password})
    assert password not in plan.as_json()
    # Still declared: it is protected, and unsetting the password finds the generated one again.
    (generated,) = plan.of_type("random:index/randomPassword:RandomPassword")
    assert generated.options["protect"] is True
    provider = plan.named("local-grafana-provider")
    assert provider.inputs["auth"] == "[secret]"
    assert contains_secret(provider.raw_inputs["auth"])


def test_grafana_provider_waits_for_the_grafana_container(local_plan: Plan) -> None:
    provider = local_plan.named("local-grafana-provider")
    assert provider.inputs["url"] == "http://127.0.0.1:3000"
    assert "local-grafana" in provider.options["dependsOn"]


def test_datasources_have_fixed_uids_on_the_local_grafana(local_plan: Plan) -> None:
    datasources = {d.inputs["uid"]: d for d in local_plan.of_type(DATASOURCE)}
    assert sorted(datasources) == ["loki", "prometheus", "tempo"]
    for uid, declared in datasources.items():
        assert declared.provider == "local-grafana-provider"
        assert declared.inputs["type"] == uid
        assert (
            declared.inputs["url"]
            == f"http://{uid}:{ {'prometheus': 9090, 'loki': 3100, 'tempo': 3200}[uid] }"
        )


def test_datasources_are_cross_linked(local_plan: Plan) -> None:
    json_data = {
        d.inputs["uid"]: json.loads(d.inputs["jsonDataEncoded"])
        for d in local_plan.of_type(DATASOURCE)
    }
    exemplars = json_data["prometheus"]["exemplarTraceIdDestinations"]
    assert exemplars == [
        {"datasourceUid": "tempo", "name": "trace_id", "urlDisplayLabel": "View trace"}
    ]
    tempo = json_data["tempo"]
    assert tempo["tracesToLogsV2"]["datasourceUid"] == "loki"
    assert tempo["tracesToMetrics"]["datasourceUid"] == "prometheus"
    assert tempo["serviceMap"]["datasourceUid"] == "prometheus"
    derived = json_data["loki"]["derivedFields"]
    assert [(f["name"], f["datasourceUid"]) for f in derived] == [("trace_id", "tempo")]


def test_outputs_give_endpoints_and_a_cumulative_env_block(local_plan: Plan) -> None:
    outputs = local_plan.outputs
    assert outputs["grafanaUrl"] == "http://127.0.0.1:3000"
    assert outputs["otlpGrpcEndpoint"] == "http://127.0.0.1:4317"
    assert outputs["otlpHttpEndpoint"] == "http://127.0.0.1:4318"
    claude = outputs["claudeCodeEnv"]
    assert "CLAUDE_CODE_ENABLE_TELEMETRY=1" in claude
    assert "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1" in claude
    assert "OTEL_TRACES_EXPORTER=otlp" in claude
    assert "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=cumulative" in claude
    assert "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318" in claude
    assert "OTEL_TRACES_EXPORTER=otlp" in outputs["otelSdkEnv"]


def test_every_resource_uses_an_explicit_provider(local_plan: Plan) -> None:
    for declared in local_plan.resources:
        is_component = declared.type.startswith("llm-o11y:")
        is_provider = declared.type.startswith("pulumi:providers:")
        if not (is_component or is_provider):
            assert declared.provider, declared.name


def test_prometheus_config_header_names_every_flag_the_program_sets() -> None:
    from components.local_stack import prometheus_service
    from components.settings import LocalSettings

    header = "".join(
        line.lstrip("# ")
        for line in (REPO_ROOT / "configs" / "prometheus" / "prometheus.yml")
        .read_text()
        .splitlines()
        if line.startswith("#")
    )
    for flag in prometheus_service(LocalSettings()).command:
        # Feature flags are named with their values; other flags by name.
        named = flag if flag.startswith("--enable-feature") else flag.split("=", 1)[0]
        assert named in header, f"{flag} is not named in prometheus.yml's header"


def test_user_identity_adds_its_collector_config_after_the_others(tmp_path: Path) -> None:
    root = REPO_ROOT / "configs" / "otel-collector"
    keep = container(program.run({"local": {"jsonlLogDir": str(tmp_path)}}), "otel-collector")
    drop = container(
        program.run({"local": {"jsonlLogDir": str(tmp_path)}, "userIdentity": "drop"}),
        "otel-collector",
    )

    assert not any("user-identity" in flag for flag in keep["command"])
    assert drop["command"] == [
        "--config=/etc/otelcol-contrib/config.yaml",
        "--config=/etc/otelcol-contrib/jsonl-logs.yaml",
        "--config=/etc/otelcol-contrib/user-identity-drop.yaml",
    ]
    uploads = {u["file"]: u["content"] for u in drop["uploads"]}
    assert uploads["/etc/otelcol-contrib/user-identity-drop.yaml"] == (
        root / "user-identity-drop.yaml"
    ).read_text(encoding="utf-8")


def test_the_user_identity_salt_is_uploaded_as_a_secret_file_only() -> None:
    salt = "a-salt-nobody-should-read-0123"
    plan = program.run({"userIdentity": "hash"}, secrets={"userIdentitySalt": salt})
    declared = plan.named("local-otel-collector")

    assert salt not in plan.as_json()
    salt_file = next(
        u for u in declared.raw_inputs["uploads"] if u["file"] == USER_IDENTITY_SALT_FILE
    )
    assert contains_secret(salt_file["content"])
    assert "--config=/etc/otelcol-contrib/user-identity-hash.yaml" in declared.inputs["command"]
    assert not any("salt" in env.lower() for env in declared.inputs["envs"])


def test_hash_without_a_salt_and_identity_rules_on_cloud_are_refused() -> None:
    assert "userIdentitySalt required when userIdentity is 'hash'" in program.rejection(
        {"userIdentity": "hash"}
    )
    assert "userIdentitySalt: must be 16 to 128" in program.rejection(
        {"userIdentity": "hash"}, secrets={"userIdentitySalt": "has spaces in it, no"}
    )
    assert "userIdentitySalt: must be stored as a secret" in program.rejection(
        {"userIdentity": "hash", "userIdentitySalt": "plain-text-salt-0123456"}
    )
