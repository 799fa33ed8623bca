"""The local target: collector, Prometheus, Loki, Tempo and Grafana in Docker on one network.

Configs come from `configs/<service>/` and are uploaded into the containers; data lives on
named volumes that survive container replacement and are protected from deletion. Host ports
bind to `local.bindAddress` (127.0.0.1 by default) and nowhere else. Docker names carry the
stack name (except the `local` stack's), so a second local stack never adopts the first's data.

The stack owns Grafana's admin password: it is kept (protected) across `make down`, and every
Grafana container start writes it into Grafana's database, which otherwise reads it only once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_docker as docker
import pulumi_random as random
import pulumiverse_grafana as grafana
import yaml

from components.datasources import PROMETHEUS_UID
from components.settings import FleetSettings, LocalSettings, Settings, UserIdentity
from components.target import DatasourceEndpoint, DatasourceEndpoints, Target, app_env_blocks
from components.versions import IMAGES

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
PREFIX = "llm-o11y"
# The stack that had the unscoped names first keeps them: renaming would orphan its volumes.
DEFAULT_LOCAL_STACK = "local"
JSONL_MOUNT = "/var/log/llm-cost"
# The collector image is FROM scratch: no shell, curl or wget to probe its health with. A
# one-shot setup job copies the (static) promtool from the Prometheus image onto a volume the
# collector mounts; `promtool check healthy` then calls the health_check extension.
PROBE_DIR = "/probe"
COLLECTOR_STATE_DIR = "/var/lib/otelcol/file_storage"
COLLECTOR_UID = "10001:10001"
# The collector's container memory limit: memory_limiter's hard limit (configs/otel-collector)
# plus room for a spike between its checks and for memory outside the Go heap.
COLLECTOR_MEMORY_LIMIT_MIB = 1024
COLLECTOR_CONFIG_DIR = "/etc/otelcol-contrib"
# Read by configs/otel-collector/user-identity-hash.yaml (`${file:...}`): a file, since an
# environment variable would show in `docker inspect`.
USER_IDENTITY_SALT_FILE = f"{COLLECTOR_CONFIG_DIR}/user-identity-salt"


def config_file(relative: str) -> str:
    return (CONFIG_DIR / relative).read_text(encoding="utf-8")


STOP_GRACE_SECONDS = 30
GRAFANA_PASSWORD_FILE = "/etc/grafana/admin-password"
# Grafana applies GF_SECURITY_ADMIN_PASSWORD(__FILE) only when it creates its database, so on
# an existing database the stack's password is written with Grafana's own CLI before the
# server starts (stdin, not argv); if that fails the container fails, rather than lock out.
GRAFANA_START = (
    'if [ -f "$GF_PATHS_DATA/grafana.db" ]; then '
    'grafana cli --homepath "$GF_PATHS_HOME" --config "$GF_PATHS_CONFIG" '
    "admin reset-admin-password --password-from-stdin "
    '< "$GF_SECURITY_ADMIN_PASSWORD__FILE" > /dev/null || exit 1; '
    "fi; exec /run.sh"
)


def docker_prefix(stack: str) -> str:
    """What every Docker name of this stack starts with."""
    return PREFIX if stack == DEFAULT_LOCAL_STACK else f"{PREFIX}-{stack}"


@dataclass(frozen=True)
class Healthcheck:
    """A Docker healthcheck run inside the container (so it must use what the image ships).

    No `start_interval`: it needs Docker API 1.44 (Engine 25), and the floor is 1.41.
    """

    test: list[str]
    start_period: str = "20s"

    def args(self) -> docker.ContainerHealthcheckArgs:
        return docker.ContainerHealthcheckArgs(
            tests=self.test,
            interval="5s",
            timeout="5s",
            retries=6,
            start_period=self.start_period,
        )


@dataclass(frozen=True)
class Service:
    """One long-running container of the stack."""

    name: str
    command: list[str]
    healthcheck: Healthcheck
    entrypoint: list[str] | None = None  # None: the image's own
    ports: dict[int, int] = field(default_factory=dict)  # container port -> host port
    # container path -> file content
    uploads: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    volumes: dict[str, str] = field(default_factory=dict)  # volume key -> container path
    read_only_volumes: dict[str, str] = field(default_factory=dict)
    bind_mounts: dict[str, str] = field(default_factory=dict)  # host dir -> container dir (ro)
    envs: list[pulumi.Input[str]] = field(default_factory=list)
    memory_limit_mib: int | None = None  # the container's hard memory limit


@dataclass(frozen=True)
class LocalStackArgs:
    local: LocalSettings
    # None: a random password is generated and kept (secret, protected) in the stack's state.
    grafana_admin_password: pulumi.Output[str] | None = None
    docker_prefix: str = PREFIX
    user_identity: UserIdentity = "keep"
    # Required (and validated) when user_identity is "hash".
    user_identity_salt: pulumi.Output[str] | None = None
    fleet: FleetSettings = field(default_factory=FleetSettings)

    @staticmethod
    def from_settings(settings: Settings) -> LocalStackArgs:
        return LocalStackArgs(
            settings.local,
            settings.grafana_admin_password,
            docker_prefix(pulumi.get_stack()),
            settings.user_identity,
            settings.user_identity_salt,
            settings.fleet,
        )


# Volumes: data volumes are protected; the probe volume only holds a copied binary.
DATA_VOLUMES = ("prometheus", "loki", "tempo", "grafana", "otel-collector")
PROBE_VOLUME = "otel-collector-probe"


def collector_gomemlimit(config: str) -> str:
    """GOMEMLIMIT at memory_limiter's soft limit (80 % of its hard limit, as the processor's docs
    advise): the Go GC works hard there, before memory_limiter refuses data."""
    limiter = yaml.safe_load(config)["processors"]["memory_limiter"]
    return f"{limiter['limit_mib'] - limiter['spike_limit_mib']}MiB"


def collector_config_files(local: LocalSettings, user_identity: UserIdentity) -> list[str]:
    """The collector's files (in configs/otel-collector/) in merge order: config.yaml,
    jsonl-logs.yaml when a JSONL folder is set, and the user-identity file of `hash` or `drop`,
    which replaces config.yaml's no-op transform/user_identity."""
    files = ["config.yaml"]
    if local.jsonl_log_dir is not None:
        files.append("jsonl-logs.yaml")
    if user_identity != "keep":
        files.append(f"user-identity-{user_identity}.yaml")
    return files


def collector_service(
    local: LocalSettings,
    user_identity: UserIdentity = "keep",
    user_identity_salt: pulumi.Output[str] | None = None,
) -> Service:
    files = collector_config_files(local, user_identity)
    mounts = {} if local.jsonl_log_dir is None else {local.jsonl_log_dir: JSONL_MOUNT}
    uploads: dict[str, pulumi.Input[str]] = {
        f"{COLLECTOR_CONFIG_DIR}/{name}": config_file(f"otel-collector/{name}") for name in files
    }
    command = [f"--config={COLLECTOR_CONFIG_DIR}/{name}" for name in files]
    if user_identity == "hash":
        if user_identity_salt is None:
            raise ValueError("userIdentity 'hash' needs userIdentitySalt")
        uploads[USER_IDENTITY_SALT_FILE] = pulumi.Output.secret(user_identity_salt)
    return Service(
        name="otel-collector",
        command=command,
        healthcheck=Healthcheck(
            ["CMD", f"{PROBE_DIR}/promtool", "check", "healthy", "--url=http://127.0.0.1:13133"]
        ),
        ports={4317: local.ports.otlp_grpc, 4318: local.ports.otlp_http},
        uploads=uploads,
        # The exporters' queues and the JSONL receiver's file offsets: losing them would lose
        # accepted telemetry, or import (and count) logs twice.
        volumes={"otel-collector": COLLECTOR_STATE_DIR},
        read_only_volumes={PROBE_VOLUME: PROBE_DIR},
        bind_mounts=mounts,
        envs=[f"GOMEMLIMIT={collector_gomemlimit(config_file('otel-collector/config.yaml'))}"],
        memory_limit_mib=COLLECTOR_MEMORY_LIMIT_MIB,
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
        entrypoint=["/bin/sh", "-c"],
        command=[GRAFANA_START],
        healthcheck=Healthcheck(["CMD", "curl", "-fsS", "http://127.0.0.1:3000/api/health"]),
        ports={3000: local.ports.grafana},
        # A file, not an environment variable, which `docker inspect` would show.
        uploads={GRAFANA_PASSWORD_FILE: pulumi.Output.secret(admin_password)},
        volumes={"grafana": "/var/lib/grafana"},
        envs=[
            f"GF_SECURITY_ADMIN_USER={local.grafana_admin_user}",
            f"GF_SECURITY_ADMIN_PASSWORD__FILE={GRAFANA_PASSWORD_FILE}",
            f"GF_SERVER_ROOT_URL={grafana_url(local)}/",
            "GF_AUTH_ANONYMOUS_ENABLED=false",
            "GF_USERS_ALLOW_SIGN_UP=false",
            "GF_ANALYTICS_REPORTING_ENABLED=false",
            "GF_ANALYTICS_CHECK_FOR_UPDATES=false",
            "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES=false",
            "GF_NEWS_NEWS_FEED_ENABLED=false",
            # Grafana-managed recording rules (vocabulary/recording.py, event_counts.py) write to
            # the prometheus datasource, whose Prometheus takes remote writes; each rule names it
            # as its target, and the default covers a Grafana that ignores a rule's target.
            "GF_FEATURE_TOGGLES_ENABLE=grafanaManagedRecordingRules",
            "GF_RECORDING_RULES_ENABLED=true",
            f"GF_RECORDING_RULES_DEFAULT_DATASOURCE_UID={PROMETHEUS_UID}",
        ],
    )


def host_for_clients(local: LocalSettings) -> str:
    """The address clients (the Grafana provider, browsers, GF_SERVER_ROOT_URL) use: the
    address the stack is bound to, or this host's loopback when it is bound to every interface."""
    address = local.bind_address
    if address.is_unspecified:
        return "127.0.0.1" if address.version == 4 else "[::1]"
    return str(address) if address.version == 4 else f"[{address}]"


def exposure_warning(local: LocalSettings) -> str | None:
    """What a bind beyond loopback exposes, or None on loopback."""
    if local.bind_address.is_loopback:
        return None
    host, ports = host_for_clients(local), local.ports
    return "\n".join(
        [
            f"local.bindAddress is {local.bind_address}: the stack is reachable from other "
            + (
                "machines on every interface of this host."
                if local.bind_address.is_unspecified
                else "machines on that interface."
            ),
            "  With no login at all, anyone who reaches these ports can read and write:",
            f"    Prometheus http://{host}:{ports.prometheus} (every metric; remote write)",
            f"    Loki       http://{host}:{ports.loki} (every log line; push)",
            f"    Tempo      http://{host}:{ports.tempo} (every trace)",
            f"    OTLP       {host}:{ports.otlp_grpc} (gRPC) and {host}:{ports.otlp_http} (HTTP), "
            "which accept any telemetry",
            f"  Grafana    http://{host}:{ports.grafana} asks for a login (and is its "
            "GF_SERVER_ROOT_URL"
            + (
                ": bound to every interface, its links point at this host's loopback; bind to "
                "one address to have them point there)."
                if local.bind_address.is_unspecified
                else ")."
            ),
            "  Docker publishes ports with its own iptables rules, ahead of host firewalls such "
            "as ufw or firewalld: a firewall rule on this host does not close them.",
            "  Keep 127.0.0.1 unless the network is trusted; to share Grafana only, put a "
            "reverse proxy with TLS in front of it.",
        ]
    )


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
        self._prefix = args.docker_prefix
        local = args.local
        warning = exposure_warning(local)
        if warning:
            pulumi.log.warn(warning, resource=self)

        self.docker = docker.Provider(
            f"{name}-docker-provider", opts=pulumi.ResourceOptions(parent=self)
        )
        self.network = docker.Network(
            f"{name}-network",
            name=self._prefix,
            driver="bridge",
            opts=self._docker_opts(replace=True),
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

        generated_password = self._random_admin_password()
        admin_password = args.grafana_admin_password or generated_password
        services = [
            prometheus_service(local),
            loki_service(local),
            tempo_service(local),
            collector_service(local, args.user_identity, args.user_identity_salt),
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
                **app_env_blocks(otlp_http, "http/protobuf", teams=args.fleet.teams),
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
            name=f"{self._prefix}-{key}-data" if protect else f"{self._prefix}-{key}",
            opts=self._docker_opts(protect=protect),
        )

    def _random_admin_password(self) -> pulumi.Output[str]:
        """Protected, so `make down` keeps it; declared even when a password is configured,
        since dropping a protected resource fails `pulumi up` (and unsetting finds it again)."""
        provider = random.Provider(
            f"{self._name}-random-provider", opts=pulumi.ResourceOptions(parent=self)
        )
        password = random.RandomPassword(
            f"{self._name}-grafana-admin-password",
            length=24,
            special=False,
            opts=pulumi.ResourceOptions(parent=self, provider=provider, protect=True),
        )
        return pulumi.Output.secret(password.result)

    def _collector_setup(self) -> docker.Container:
        """One-shot job (runs to completion at create): the probe binary and state ownership."""
        script = (
            f"cp /bin/promtool {PROBE_DIR}/promtool && chown -R {COLLECTOR_UID} /collector-state"
        )
        return docker.Container(
            f"{self._name}-otel-collector-setup",
            name=f"{self._prefix}-otel-collector-setup",
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
            name=f"{self._prefix}-{service.name}",
            image=self.images[service.name].image_id,
            entrypoints=service.entrypoint,
            command=service.command or None,
            envs=service.envs or None,
            memory=service.memory_limit_mib,
            restart="unless-stopped",
            # The provider stops a container with this timeout before removing it (0 by default:
            # killed at once); the collector flushes its batches, the backends close their WALs.
            destroy_grace_seconds=STOP_GRACE_SECONDS,
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
