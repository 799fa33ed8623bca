"""The local target: collector, Prometheus, Loki, Tempo and Grafana in Docker on one network.

Configs come from `configs/<service>/` and are uploaded into the containers; data lives on
named volumes that survive container replacement and are protected from deletion. Host ports
bind to `local.bindAddress` (127.0.0.1 by default) and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_docker as docker
import pulumi_random as random
import pulumiverse_grafana as grafana

from components.settings import LocalSettings, Settings
from components.target import DatasourceEndpoint, DatasourceEndpoints, Target, app_env_blocks
from components.versions import IMAGES

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
PREFIX = "llm-o11y"
JSONL_MOUNT = "/var/log/llm-cost"
# The collector image is FROM scratch: no shell, curl or wget to probe its health with. A
# one-shot setup job copies the (static) promtool from the Prometheus image onto a volume the
# collector mounts; `promtool check healthy` then calls the health_check extension.
PROBE_DIR = "/probe"
COLLECTOR_STATE_DIR = "/var/lib/otelcol/file_storage"
COLLECTOR_UID = "10001:10001"


def config_file(relative: str) -> str:
    return (CONFIG_DIR / relative).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Healthcheck:
    """A Docker healthcheck run inside the container (so it must use what the image ships)."""

    test: list[str]
    start_period: str = "20s"

    def args(self) -> docker.ContainerHealthcheckArgs:
        return docker.ContainerHealthcheckArgs(
            tests=self.test,
            interval="10s",
            timeout="5s",
            retries=6,
            start_period=self.start_period,
            start_interval="2s",
        )


@dataclass(frozen=True)
class Service:
    """One long-running container of the stack."""

    name: str
    command: list[str]
    healthcheck: Healthcheck
    ports: dict[int, int] = field(default_factory=dict)  # container port -> host port
    uploads: dict[str, str] = field(default_factory=dict)  # container path -> file content
    volumes: dict[str, str] = field(default_factory=dict)  # volume key -> container path
    read_only_volumes: dict[str, str] = field(default_factory=dict)
    bind_mounts: dict[str, str] = field(default_factory=dict)  # host dir -> container dir (ro)
    envs: list[pulumi.Input[str]] = field(default_factory=list)


@dataclass(frozen=True)
class LocalStackArgs:
    local: LocalSettings
    # None: a random password is generated and kept (secret) in the stack's state.
    grafana_admin_password: pulumi.Output[str] | None = None

    @staticmethod
    def from_settings(settings: Settings) -> LocalStackArgs:
        return LocalStackArgs(settings.local, settings.grafana_admin_password)


# Volumes: data volumes are protected; the probe volume only holds a copied binary.
DATA_VOLUMES = ("prometheus", "loki", "tempo", "grafana", "otel-collector")
PROBE_VOLUME = "otel-collector-probe"


def collector_service(local: LocalSettings) -> Service:
    uploads = {"/etc/otelcol-contrib/config.yaml": config_file("otel-collector/config.yaml")}
    command = ["--config=/etc/otelcol-contrib/config.yaml"]
    mounts = {}
    if local.jsonl_log_dir is not None:
        uploads["/etc/otelcol-contrib/jsonl-logs.yaml"] = config_file(
            "otel-collector/jsonl-logs.yaml"
        )
        command.append("--config=/etc/otelcol-contrib/jsonl-logs.yaml")
        mounts[local.jsonl_log_dir] = JSONL_MOUNT
    return Service(
        name="otel-collector",
        command=command,
        healthcheck=Healthcheck(
            ["CMD", f"{PROBE_DIR}/promtool", "check", "healthy", "--url=http://127.0.0.1:13133"]
        ),
        ports={4317: local.ports.otlp_grpc, 4318: local.ports.otlp_http},
        uploads=uploads,
        # File offsets of the JSONL receiver: losing them would import (and count) logs twice.
        volumes={"otel-collector": COLLECTOR_STATE_DIR},
        read_only_volumes={PROBE_VOLUME: PROBE_DIR},
        bind_mounts=mounts,
    )


def prometheus_service(local: LocalSettings) -> Service:
    return Service(
        name="prometheus",
        command=[
            "--config.file=/etc/prometheus/prometheus.yml",
            "--storage.tsdb.path=/prometheus",
            f"--storage.tsdb.retention.time={local.retention_days.prometheus}d",
            "--web.enable-otlp-receiver",
            "--web.enable-remote-write-receiver",
            # exemplars from Tempo; a zero at each OTLP stream's start time, without which
            # increase() misses the first export of every short-lived (per-session) series.
            "--enable-feature=exemplar-storage,created-timestamp-zero-ingestion",
        ],
        healthcheck=Healthcheck(["CMD", "/bin/promtool", "check", "ready"]),
        ports={9090: local.ports.prometheus},
        uploads={"/etc/prometheus/prometheus.yml": config_file("prometheus/prometheus.yml")},
        volumes={"prometheus": "/prometheus"},
    )


def loki_service(local: LocalSettings) -> Service:
    return Service(
        name="loki",
        command=["-config.file=/etc/loki/loki.yaml", "-config.expand-env=true"],
        healthcheck=Healthcheck(["CMD", "/usr/bin/loki", "-health"], start_period="30s"),
        ports={3100: local.ports.loki},
        uploads={"/etc/loki/loki.yaml": config_file("loki/loki.yaml")},
        volumes={"loki": "/loki"},
        envs=[f"LOKI_RETENTION_PERIOD={local.retention_days.loki * 24}h"],
    )


def tempo_service(local: LocalSettings) -> Service:
    return Service(
        name="tempo",
        command=["-config.file=/etc/tempo/tempo.yaml", "-config.expand-env=true"],
        healthcheck=Healthcheck(["CMD", "/tempo", "-health"], start_period="30s"),
        ports={3200: local.ports.tempo},
        uploads={"/etc/tempo/tempo.yaml": config_file("tempo/tempo.yaml")},
        volumes={"tempo": "/var/tempo"},
        envs=[f"TEMPO_BLOCK_RETENTION={local.retention_days.tempo * 24}h"],
    )


def grafana_service(local: LocalSettings, admin_password: pulumi.Output[str]) -> Service:
    return Service(
        name="grafana",
        command=[],
        healthcheck=Healthcheck(["CMD", "curl", "-fsS", "http://127.0.0.1:3000/api/health"]),
        ports={3000: local.ports.grafana},
        volumes={"grafana": "/var/lib/grafana"},
        envs=[
            f"GF_SECURITY_ADMIN_USER={local.grafana_admin_user}",
            # Grafana applies this only when it creates its database (first start).
            pulumi.Output.secret(admin_password).apply(
                lambda password: f"GF_SECURITY_ADMIN_PASSWORD={password}"
            ),
            f"GF_SERVER_ROOT_URL={grafana_url(local)}/",
            "GF_AUTH_ANONYMOUS_ENABLED=false",
            "GF_USERS_ALLOW_SIGN_UP=false",
            "GF_ANALYTICS_REPORTING_ENABLED=false",
            "GF_ANALYTICS_CHECK_FOR_UPDATES=false",
            "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES=false",
            "GF_NEWS_NEWS_FEED_ENABLED=false",
            # Grafana-managed recording rules (vocabulary/recording.py) write to the prometheus
            # datasource, whose Prometheus takes remote writes.
            "GF_FEATURE_TOGGLES_ENABLE=grafanaManagedRecordingRules",
            "GF_RECORDING_RULES_ENABLED=true",
        ],
    )


def host_for_clients(local: LocalSettings) -> str:
    """The address this machine's clients (and the Grafana provider) use to reach the stack."""
    address = local.bind_address
    if address.is_unspecified:
        return "127.0.0.1" if address.version == 4 else "[::1]"
    return str(address) if address.version == 4 else f"[{address}]"


def grafana_url(local: LocalSettings) -> str:
    return f"http://{host_for_clients(local)}:{local.ports.grafana}"


class LocalStack(pulumi.ComponentResource):
    """The whole local stack; `target` is what the Grafana content is declared on."""

    target: Target

    def __init__(
        self, name: str, args: LocalStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("llm-o11y:local_stack:LocalStack", name, None, opts)
        self._name = name
        local = args.local
        if not local.bind_address.is_loopback:
            pulumi.log.warn(
                f"local.bindAddress is {local.bind_address}: the stack's ports are reachable "
                "from other machines on that interface",
                resource=self,
            )

        self.docker = docker.Provider(
            f"{name}-docker-provider", opts=pulumi.ResourceOptions(parent=self)
        )
        self.network = docker.Network(
            f"{name}-network", name=PREFIX, driver="bridge", opts=self._docker_opts(replace=True)
        )
        self.images = {
            service: docker.RemoteImage(
                f"{name}-{service}-image",
                name=IMAGES[service],
                keep_locally=True,
                opts=self._docker_opts(),
            )
            for service in IMAGES
        }
        self.volumes = {key: self._volume(key, protect=True) for key in DATA_VOLUMES}
        self.volumes[PROBE_VOLUME] = self._volume(PROBE_VOLUME, protect=False)
        collector_setup = self._collector_setup()

        admin_password = args.grafana_admin_password or self._random_admin_password()
        services = [
            prometheus_service(local),
            loki_service(local),
            tempo_service(local),
            collector_service(local),
            grafana_service(local, admin_password),
        ]
        self.containers = {
            service.name: self._container(
                service,
                local,
                depends_on=[collector_setup] if service.name == "otel-collector" else [],
            )
            for service in services
        }

        self.grafana_provider = grafana.Provider(
            f"{name}-grafana-provider",
            url=grafana_url(local),
            auth=pulumi.Output.secret(
                pulumi.Output.concat(local.grafana_admin_user, ":", admin_password)
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.containers["grafana"]]),
        )

        host = host_for_clients(local)
        otlp_http = f"http://{host}:{local.ports.otlp_http}"
        self.target = Target(
            grafana_provider=self.grafana_provider,
            # Grafana reaches the backends by service name on the Docker network.
            endpoints=DatasourceEndpoints(
                prometheus=DatasourceEndpoint("http://prometheus:9090"),
                loki=DatasourceEndpoint("http://loki:3100"),
                tempo=DatasourceEndpoint("http://tempo:3200"),
            ),
            exports={
                "grafanaUrl": grafana_url(local),
                "grafanaAdminUser": local.grafana_admin_user,
                "grafanaAdminPassword": pulumi.Output.secret(admin_password),
                "otlpGrpcEndpoint": f"http://{host}:{local.ports.otlp_grpc}",
                "otlpHttpEndpoint": otlp_http,
                "prometheusUrl": f"http://{host}:{local.ports.prometheus}",
                "lokiUrl": f"http://{host}:{local.ports.loki}",
                "tempoUrl": f"http://{host}:{local.ports.tempo}",
                **app_env_blocks(otlp_http, "http/protobuf"),
            },
        )
        self.register_outputs({"grafanaUrl": grafana_url(local), "network": self.network.name})

    def _docker_opts(
        self, *, replace: bool = False, protect: bool = False, depends_on: list | None = None
    ) -> pulumi.ResourceOptions:
        # A fixed Docker name (and host port) collides unless the old object goes first.
        return pulumi.ResourceOptions(
            parent=self,
            provider=self.docker,
            delete_before_replace=replace,
            protect=protect,
            depends_on=depends_on or [],
        )

    def _volume(self, key: str, *, protect: bool) -> docker.Volume:
        return docker.Volume(
            f"{self._name}-{key}-data" if protect else f"{self._name}-{key}",
            name=f"{PREFIX}-{key}-data" if protect else f"{PREFIX}-{key}",
            opts=self._docker_opts(protect=protect),
        )

    def _random_admin_password(self) -> pulumi.Output[str]:
        provider = random.Provider(
            f"{self._name}-random-provider", opts=pulumi.ResourceOptions(parent=self)
        )
        password = random.RandomPassword(
            f"{self._name}-grafana-admin-password",
            length=24,
            special=False,
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        return pulumi.Output.secret(password.result)

    def _collector_setup(self) -> docker.Container:
        """One-shot job (runs to completion at create): the probe binary and state ownership."""
        script = (
            f"cp /bin/promtool {PROBE_DIR}/promtool && chown -R {COLLECTOR_UID} /collector-state"
        )
        return docker.Container(
            f"{self._name}-otel-collector-setup",
            name=f"{PREFIX}-otel-collector-setup",
            image=self.images["prometheus"].image_id,
            user="0:0",
            entrypoints=["/bin/sh", "-c"],
            command=[script],
            volumes=[
                docker.ContainerVolumeArgs(
                    volume_name=self.volumes[PROBE_VOLUME].name, container_path=PROBE_DIR
                ),
                docker.ContainerVolumeArgs(
                    volume_name=self.volumes["otel-collector"].name,
                    container_path="/collector-state",
                ),
            ],
            attach=True,
            must_run=False,
            restart="no",
            opts=self._docker_opts(replace=True),
        )

    def _container(
        self, service: Service, local: LocalSettings, depends_on: list[pulumi.Resource]
    ) -> docker.Container:
        volumes = [
            docker.ContainerVolumeArgs(host_path=host, container_path=inside, read_only=True)
            for host, inside in service.bind_mounts.items()
        ]
        volumes += [
            docker.ContainerVolumeArgs(volume_name=self.volumes[key].name, container_path=path)
            for key, path in service.volumes.items()
        ]
        volumes += [
            docker.ContainerVolumeArgs(
                volume_name=self.volumes[key].name, container_path=path, read_only=True
            )
            for key, path in service.read_only_volumes.items()
        ]
        return docker.Container(
            f"{self._name}-{service.name}",
            name=f"{PREFIX}-{service.name}",
            image=self.images[service.name].image_id,
            command=service.command or None,
            envs=service.envs or None,
            restart="unless-stopped",
            networks_advanced=[
                docker.ContainerNetworksAdvancedArgs(name=self.network.name, aliases=[service.name])
            ],
            ports=[
                docker.ContainerPortArgs(
                    internal=inside, external=outside, ip=str(local.bind_address)
                )
                for inside, outside in service.ports.items()
            ],
            uploads=[
                docker.ContainerUploadArgs(file=path, content=content)
                for path, content in service.uploads.items()
            ],
            volumes=volumes or None,
            healthcheck=service.healthcheck.args(),
            wait=True,
            wait_timeout=180,
            opts=self._docker_opts(replace=True, depends_on=depends_on),
        )
