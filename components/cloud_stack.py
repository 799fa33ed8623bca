"""The Grafana Cloud target: a hosted stack, least-privilege tokens, and trace-derived metrics.

Two Grafana providers, because Grafana Cloud has two APIs: the Cloud API (grafana.com), reached
with the user's access policy token, manages the stack, its service account and the access
policies; the stack's own Grafana, reached with the service account token this component
mints, holds the datasources, dashboards, alerting and the App Observability activation.

Apps send OTLP to the stack's gateway with a write-only token; Grafana's datasources read with a
read-only token. Both policies are scoped to this one stack.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote

import pulumi
import pulumiverse_grafana as grafana

from components.settings import CloudSettings, FleetSettings, Settings
from components.target import DatasourceEndpoint, DatasourceEndpoints, Target, app_env_blocks

READ_SCOPES: Final = ("metrics:read", "logs:read", "traces:read")
# The stack's built-in Prometheus datasource (FIELD-NOTES: built-in Cloud datasource UIDs).
CLOUD_PROMETHEUS_UID: Final = "grafanacloud-prom"
WRITE_SCOPES: Final = ("metrics:write", "logs:write", "traces:write")
# Managing datasources, folders, dashboards and alerting needs the Admin basic role.
SERVICE_ACCOUNT_ROLE: Final = "Admin"
SERVICE_ACCOUNT_NAME: Final = "llm-o11y-pulumi"
# App Platform singletons are addressed by this fixed UID.
APP_O11Y_UID: Final = "global"


def basic_auth(user: str, password: str) -> str:
    """An HTTP `Authorization` value for basic auth."""
    credentials = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {credentials}"


def otlp_headers_env(authorization: str) -> str:
    """`OTEL_EXPORTER_OTLP_HEADERS` for one Authorization header.

    Values in that variable are percent-encoded (W3C Baggage format): the Python SDK rejects a raw
    space, and older JavaScript SDKs drop a pair whose value holds `=` (base64 padding).
    """
    return "Authorization=" + quote(authorization, safe="+/")


def _as_text(number: Any) -> str:
    """Cloud user IDs arrive as numbers (floats on Pulumi's wire); basic auth wants `123456`."""
    return str(int(number))


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + path


@dataclass(frozen=True)
class StackEndpoints:
    """What this component reads from the stack, the same whether created or looked up."""

    id: pulumi.Output[str]
    slug: pulumi.Output[str]
    url: pulumi.Output[str]
    region: pulumi.Output[str]
    # Query endpoint for the Prometheus datasource (the stack's Prometheus URL + /api/prom).
    prometheus_url: pulumi.Output[str]
    prometheus_user: pulumi.Output[str]
    logs_url: pulumi.Output[str]
    logs_user: pulumi.Output[str]
    # Query endpoint for the Tempo datasource (the stack's traces URL + /tempo).
    tempo_url: pulumi.Output[str]
    traces_user: pulumi.Output[str]
    otlp_url: pulumi.Output[str]

    @staticmethod
    def of_stack(stack: grafana.cloud.Stack) -> StackEndpoints:
        return StackEndpoints(
            id=stack.id,
            slug=stack.slug,
            url=stack.url,
            region=stack.region_slug,
            prometheus_url=stack.prometheus_remote_endpoint,
            prometheus_user=stack.prometheus_user_id.apply(_as_text),
            logs_url=stack.logs_url,
            logs_user=stack.logs_user_id.apply(_as_text),
            tempo_url=stack.traces_url.apply(lambda url: _join(url, "/tempo")),
            traces_user=stack.traces_user_id.apply(_as_text),
            otlp_url=stack.otlp_url,
        )

    @staticmethod
    def of_lookup(found: pulumi.Output[grafana.cloud.GetStackResult]) -> StackEndpoints:
        return StackEndpoints(
            id=found.apply(lambda s: s.id),
            slug=found.apply(lambda s: s.slug),
            url=found.apply(lambda s: s.url),
            region=found.apply(lambda s: s.region_slug),
            prometheus_url=found.apply(lambda s: s.prometheus_remote_endpoint),
            prometheus_user=found.apply(lambda s: _as_text(s.prometheus_user_id)),
            logs_url=found.apply(lambda s: s.logs_url),
            logs_user=found.apply(lambda s: _as_text(s.logs_user_id)),
            tempo_url=found.apply(lambda s: _join(s.traces_url, "/tempo")),
            traces_user=found.apply(lambda s: _as_text(s.traces_user_id)),
            otlp_url=found.apply(lambda s: s.otlp_url),
        )


@dataclass(frozen=True)
class CloudStackArgs:
    cloud: CloudSettings
    # The user's Cloud access policy token (Cloud API: stacks, service accounts, policies).
    access_policy_token: pulumi.Output[str]
    fleet: FleetSettings = field(default_factory=FleetSettings)

    @staticmethod
    def from_settings(settings: Settings) -> CloudStackArgs:
        # Settings validation guarantees both when target is cloud.
        if settings.cloud is None or settings.cloud_access_policy_token is None:
            raise ValueError("the cloud target needs llm-o11y:cloud and cloudAccessPolicyToken")
        return CloudStackArgs(settings.cloud, settings.cloud_access_policy_token, settings.fleet)


class CloudStack(pulumi.ComponentResource):
    """A Grafana Cloud stack ready for the shared content; `target` is what it is declared on."""

    target: Target

    def __init__(
        self, name: str, args: CloudStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("llm-o11y:cloud_stack:CloudStack", name, None, opts)
        cloud = args.cloud
        self.cloud_provider = grafana.Provider(
            f"{name}-cloud-provider",
            cloud_access_policy_token=pulumi.Output.secret(args.access_policy_token),
            opts=pulumi.ResourceOptions(parent=self),
        )
        on_cloud_api = pulumi.ResourceOptions(parent=self, provider=self.cloud_provider)

        self.stack: grafana.cloud.Stack | None = None
        stack = self._created_or_adopted_stack(name, cloud, on_cloud_api)

        self.service_account = grafana.cloud.StackServiceAccount(
            f"{name}-service-account",
            stack_slug=stack.slug,
            name=SERVICE_ACCOUNT_NAME,
            role=SERVICE_ACCOUNT_ROLE,
            is_disabled=False,
            opts=on_cloud_api,
        )
        self.service_account_token = grafana.cloud.StackServiceAccountToken(
            f"{name}-service-account-token",
            stack_slug=stack.slug,
            service_account_id=self.service_account.id,
            name=SERVICE_ACCOUNT_NAME,
            opts=on_cloud_api,
        )
        # stack_id points App Platform requests at this stack's namespace.
        self.grafana_provider = grafana.Provider(
            f"{name}-grafana-provider",
            url=stack.url,
            auth=pulumi.Output.secret(self.service_account_token.key),
            stack_id=stack.id.apply(int),
            opts=pulumi.ResourceOptions(parent=self),
        )

        read_token = self._access_policy_token(name, "read", READ_SCOPES, stack, on_cloud_api)
        write_token = self._access_policy_token(name, "write", WRITE_SCOPES, stack, on_cloud_api)

        # An adopted stack may have had App Observability on before us: leave it on at destroy.
        self.app_o11y = grafana.cloud.v1alpha1.ProductActivationAppO11yConfig(
            f"{name}-app-o11y",
            metadata={"uid": APP_O11Y_UID},
            spec={"enabled": True},
            options={"overwrite": True},
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=self.grafana_provider,
                retain_on_delete=cloud.adopt is not None,
            ),
        )

        # The OTLP gateway's basic-auth user is the stack ID.
        authorization = pulumi.Output.secret(
            pulumi.Output.all(stack.id, write_token).apply(lambda a: basic_auth(a[0], a[1]))
        )
        self.target = Target(
            grafana_provider=self.grafana_provider,
            endpoints=DatasourceEndpoints(
                prometheus=DatasourceEndpoint(
                    stack.prometheus_url, stack.prometheus_user, read_token
                ),
                loki=DatasourceEndpoint(stack.logs_url, stack.logs_user, read_token),
                tempo=DatasourceEndpoint(stack.tempo_url, stack.traces_user, read_token),
            ),
            exports={
                "grafanaUrl": stack.url,
                "stackSlug": stack.slug,
                "cloudPortalUrl": f"https://grafana.com/orgs/{cloud.organization}",
                "otlpHttpEndpoint": stack.otlp_url,
                "otlpAuthorizationHeader": authorization,
                "prometheusUrl": stack.prometheus_url,
                "lokiUrl": stack.logs_url,
                "tempoUrl": stack.tempo_url,
                **app_env_blocks(
                    stack.otlp_url,
                    "http/protobuf",
                    authorization.apply(otlp_headers_env),
                    teams=args.fleet.teams,
                ),
            },
            # Our `prometheus` datasource holds a read-only token; Grafana Cloud's own Prometheus
            # datasource may write to the same hosted Prometheus, so recorded series land where
            # the dashboards read them.
            recording_datasource_uid=CLOUD_PROMETHEUS_UID,
        )
        self.register_outputs({"grafanaUrl": stack.url, "stackSlug": stack.slug})

    def _created_or_adopted_stack(
        self, name: str, cloud: CloudSettings, on_cloud_api: pulumi.ResourceOptions
    ) -> StackEndpoints:
        if cloud.adopt is not None:
            found = grafana.cloud.get_stack_output(
                slug=cloud.adopt.slug,
                opts=pulumi.InvokeOutputOptions(parent=self, provider=self.cloud_provider),
            )
            return StackEndpoints.of_lookup(found)
        assert cloud.create is not None  # settings allow exactly one of create/adopt
        # Pulumi's protect and Grafana's delete protection follow one setting, so turning it
        # off and running `pulumi up` is all a tear-down needs.
        self.stack = grafana.cloud.Stack(
            f"{name}-stack",
            slug=cloud.create.slug,
            name=f"{cloud.create.slug}.grafana.net",
            region_slug=cloud.create.region,
            description="LLM cost, token, latency and error observability (llm-o11y)",
            labels={"managed-by": "pulumi-llm-o11y"},
            delete_protection=cloud.delete_protection,
            opts=pulumi.ResourceOptions.merge(
                on_cloud_api, pulumi.ResourceOptions(protect=cloud.delete_protection)
            ),
        )
        return StackEndpoints.of_stack(self.stack)

    def _access_policy_token(
        self,
        name: str,
        purpose: str,
        scopes: tuple[str, ...],
        stack: StackEndpoints,
        on_cloud_api: pulumi.ResourceOptions,
    ) -> pulumi.Output[str]:
        """A policy with exactly `scopes` on this stack only, and its token (secret)."""
        policy_name = stack.slug.apply(lambda slug: f"llm-o11y-{slug}-{purpose}")
        policy = grafana.cloud.AccessPolicy(
            f"{name}-{purpose}-policy",
            name=policy_name,
            display_name=stack.slug.apply(lambda slug: f"llm-o11y {purpose} ({slug})"),
            region=stack.region,
            scopes=list(scopes),
            realms=[grafana.cloud.AccessPolicyRealmArgs(type="stack", identifier=stack.id)],
            opts=on_cloud_api,
        )
        token = grafana.cloud.AccessPolicyToken(
            f"{name}-{purpose}-token",
            name=policy_name,
            region=stack.region,
            access_policy_id=policy.policy_id,
            opts=on_cloud_api,
        )
        return pulumi.Output.secret(token.token)
