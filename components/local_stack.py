"""The local target: collector, Prometheus, Loki, Tempo and Grafana in Docker on one network.

Configs come from `configs/<service>/` and are uploaded into the containers; data lives on
named volumes that survive container replacement and are protected from deletion. Host ports
bind to `local.bindAddress` (127.0.0.1 by default) and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path

import pulumi
import pulumi_docker as docker
import pulumi_random as random
import pulumiverse_grafana as grafana

from components.settings import LocalSettings, Settings
from components.target import DatasourceEndpoint, DatasourceEndpoints, Target, app_env_blocks
from components.versions import IMAGES

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
NETWORK_NAME = "llm-o11y"
JSONL_MOUNT = "/var/log/llm-cost"


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
    """One container of the stack."""

    name: str
    command: list[str]
    healthcheck: Healthcheck
    ports: dict[int, int] = field(default_factory=dict)  # container port -> host port
    uploads: dict[str, str] = field(default_factory=dict)  # container path -> file content
    data_path: str | None = None  # where the named data volume is mounted
    envs: list[pulumi.Input[str]] = field(default_factory=list)
    bind_mounts: dict[str, str] = field(default_factory=dict)  # host dir -> container dir (ro)


@dataclass(frozen=True)
class LocalStackArgs:
    local: LocalSettings
    # None: a random password is generated and kept (secret) in the stack's state.
    grafana_admin_password: pulumi.Output[str] | None = None

    @staticmethod
    def from_settings(settings: Settings) -> LocalStackArgs:
        return LocalStackArgs(settings.local, settings.grafana_admin_password)


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
        # The image is FROM scratch (no shell, no wget): the collector binary probes itself.
        healthcheck=Healthcheck(["CMD", "/otelcol-contrib", "--version"]),
        ports={4317: local.ports.otlp_grpc, 4318: local.ports.otlp_http},
        uploads=uploads,
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
            "--enable-feature=exemplar-storage",
        ],
        healthcheck=Healthcheck(
            ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9090/-/ready"]
        ),
        ports={9090: local.ports.prometheus},
        uploads={"/etc/prometheus/prometheus.yml": config_file("prometheus/prometheus.yml")},
        data_path="/prometheus",
    )


def loki_service(local: LocalSettings) -> Service:
    return Service(
        name="loki",
        command=["-config.file=/etc/loki/loki.yaml", "-config.expand-env=true"],
        healthcheck=Healthcheck(["CMD", "/usr/bin/loki", "-health"], start_period="30s"),
        ports={3100: local.ports.loki},
        uploads={"/etc/loki/loki.yaml": config_file("loki/loki.yaml")},
        data_path="/loki",
        envs=[f"LOKI_RETENTION_PERIOD={local.retention_days.loki * 24}h"],
    )


def tempo_service(local: LocalSettings) -> Service:
    return Service(
        name="tempo",
        command=["-config.file=/etc/tempo/tempo.yaml", "-config.expand-env=true"],
        healthcheck=Healthcheck(["CMD", "/tempo", "-health"], start_period="30s"),
        ports={3200: local.ports.tempo},
        uploads={"/etc/tempo/tempo.yaml": config_file("tempo/tempo.yaml")},
        data_path="/var/tempo",
        envs=[f"TEMPO_BLOCK_RETENTION={local.retention_days.tempo * 24}h"],
    )


def grafana_service(local: LocalSettings, admin_password: pulumi.Output[str]) -> Service:
    return Service(
        name="grafana",
        command=[],
        healthcheck=Healthcheck(["CMD", "curl", "-fsS", "http://127.0.0.1:3000/api/health"]),
        ports={3000: local.ports.grafana},
        data_path="/var/lib/grafana",
        envs=[
            f"GF_SECURITY_ADMIN_USER={local.grafana_admin_user}",
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
        child = pulumi.ResourceOptions(parent=self, provider=self.docker)
        self.network = docker.Network(
            f"{name}-network",
            name=NETWORK_NAME,
            driver="bridge",
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(delete_before_replace=True)
            ),
        )

        admin_password = args.grafana_admin_password or self._random_admin_password(name)
        services = [
            prometheus_service(local),
            loki_service(local),
            tempo_service(local),
            collector_service(local),
            grafana_service(local, admin_password),
        ]
        self.volumes: dict[str, docker.Volume] = {}
        self.containers: dict[str, docker.Container] = {}
        for service in services:
            self.containers[service.name] = self._container(name, service, local, child)

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

    def _random_admin_password(self, name: str) -> pulumi.Output[str]:
        provider = random.Provider(
            f"{name}-random-provider", opts=pulumi.ResourceOptions(parent=self)
        )
        password = random.RandomPassword(
            f"{name}-grafana-admin-password",
            length=24,
            special=False,
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        return pulumi.Output.secret(password.result)

    def _container(
        self,
        name: str,
        service: Service,
        local: LocalSettings,
        child: pulumi.ResourceOptions,
    ) -> docker.Container:
        image = docker.RemoteImage(
            f"{name}-{service.name}-image",
            name=IMAGES[service.name],
            keep_locally=True,
            opts=child,
        )
        volumes = [
            docker.ContainerVolumeArgs(host_path=host, container_path=inside, read_only=True)
            for host, inside in service.bind_mounts.items()
        ]
        if service.data_path is not None:
            volume = docker.Volume(
                f"{name}-{service.name}-data",
                name=f"{NETWORK_NAME}-{service.name}-data",
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=True)),
            )
            self.volumes[service.name] = volume
            volumes.append(
                docker.ContainerVolumeArgs(
                    volume_name=volume.name, container_path=service.data_path
                )
            )
        bind_ip = str(ip_address(local.bind_address))
        return docker.Container(
            f"{name}-{service.name}",
            name=f"{NETWORK_NAME}-{service.name}",
            image=image.image_id,
            command=service.command or None,
            envs=service.envs or None,
            restart="unless-stopped",
            networks_advanced=[
                docker.ContainerNetworksAdvancedArgs(name=self.network.name, aliases=[service.name])
            ],
            ports=[
                docker.ContainerPortArgs(internal=inside, external=outside, ip=bind_ip)
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
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(delete_before_replace=True)
            ),
        )
