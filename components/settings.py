"""Stack settings: one validated model, read once from the `llm-o11y:*` keys of stack config.

Every value is checked before any resource is declared; a bad one stops the program with a
message naming the key (as written in `stacks/Pulumi.<stack>.yaml`) and what is allowed.
Secret values never leave `pulumi.Output`: a secret field only accepts a value that Pulumi
itself holds as a secret (`pulumi config set --secret`), and is kept as `Output.secret`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

PROJECT = "llm-o11y"


class SettingsError(pulumi.RunError):
    """A stack setting is missing or invalid; Pulumi prints the message without a traceback."""


class _SecretText(str):
    """A config string that Pulumi holds as a secret; only these may fill a secret field."""


def _require_secret(value: Any) -> pulumi.Output:
    if isinstance(value, _SecretText):
        return pulumi.Output.secret(str(value))
    if isinstance(value, str):
        raise ValueError(
            "must be stored as a secret: set it with `pulumi config set --secret <key> <value>`"
        )
    raise ValueError("must be a string stored as a secret")


def _check_password(value: Any) -> Any:
    if isinstance(value, _SecretText) and (len(value) < 12 or value.lower() == "admin"):
        raise ValueError("must be at least 12 characters and not 'admin'")
    return value


SecretString = Annotated[pulumi.Output, BeforeValidator(_require_secret)]
Password = Annotated[
    pulumi.Output, BeforeValidator(_require_secret), BeforeValidator(_check_password)
]
Port = Annotated[int, Field(ge=1, le=65535)]
RetentionDays = Annotated[int, Field(ge=1, le=3650)]


def _check_pattern(pattern: re.Pattern[str], what: str) -> Any:
    # The value is not echoed: a `secure:` leaf makes every value of its top-level key secret.
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"must be {what}")
        return value

    return AfterValidator(check)


_USER_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


def _absolute_directory(value: str) -> str:
    path = Path(value)
    if not path.is_absolute():
        raise ValueError(f"must be an absolute path, got {value!r}")
    # Docker's volume syntax splits on ':', and `/` would hand the whole host to the collector.
    if ":" in value:
        raise ValueError(f"must not contain ':' (Docker's volume separator), got {value!r}")
    if path.resolve() == Path("/"):
        raise ValueError("must be the folder of the JSONL logs, not the filesystem root '/'")
    if not path.is_dir():
        raise ValueError(f"must be an existing directory on the Docker host, got {value!r}")
    return value


def _parse_ip(value: Any) -> Any:
    if isinstance(value, IPv4Address | IPv6Address):
        return value
    if not isinstance(value, str):
        raise ValueError(f"must be an IP address such as 127.0.0.1, got {value!r}")
    try:
        address = ip_address(value)
    except ValueError:
        raise ValueError(f"must be an IP address such as 127.0.0.1, got {value!r}") from None
    if address.is_multicast:
        raise ValueError(f"must be a unicast address of this host, got multicast {value}")
    return address


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        # `.inf` or `.nan` in YAML would reach the rule models as invalid JSON.
        allow_inf_nan=False,
        alias_generator=to_camel,
        populate_by_name=True,
        arbitrary_types_allowed=True,
    )


class HostPorts(_Model):
    """Host ports the local stack publishes (on `bindAddress` only)."""

    grafana: Port = 3000
    otlp_grpc: Port = 4317
    otlp_http: Port = 4318
    prometheus: Port = 9090
    loki: Port = 3100
    tempo: Port = 3200

    @model_validator(mode="after")
    def _distinct(self) -> HostPorts:
        seen: dict[int, str] = {}
        for field, port in self.model_dump(by_alias=True).items():
            if port in seen:
                raise ValueError(f"{field} and {seen[port]} both use port {port}")
            seen[port] = field
        return self


class Retention(_Model):
    """How many days each store keeps data."""

    prometheus: RetentionDays = 15
    loki: RetentionDays = 31
    tempo: RetentionDays = 14


class LocalSettings(_Model):
    """The local Docker target."""

    bind_address: Annotated[IPv4Address | IPv6Address, BeforeValidator(_parse_ip)] = IPv4Address(
        "127.0.0.1"
    )
    ports: HostPorts = HostPorts()
    retention_days: Retention = Retention()
    # Host folder of JSONL cost logs (seed 000) that the collector tails into Loki.
    jsonl_log_dir: Annotated[str, AfterValidator(_absolute_directory)] | None = None
    grafana_admin_user: Annotated[
        str, _check_pattern(_USER_NAME, "1 to 64 letters, digits, '_', '.', '@' or '-'")
    ] = "admin"


# The Grafana provider's own check for a stack slug (it becomes https://<slug>.grafana.net).
_STACK_SLUG = re.compile(r"[a-z][a-z0-9]{1,28}")
# Region slugs come from https://grafana.com/api/stack-regions: short aliases or cluster names
# (prod-<area>-<direction>-<n>, e.g. prod-us-east-0, prod-ap-southeast-1).
REGION_ALIASES = ("us", "us-azure", "eu", "au")
_REGION_AREAS = "us|eu|ap|au|sa|me|gb|ca|in|jp|af"
_REGION_DIRECTIONS = "east|west|north|south|central|northeast|northwest|southeast|southwest"
_REGION = re.compile(rf"prod-({_REGION_AREAS})-({_REGION_DIRECTIONS})-[0-9]+")
_ORGANIZATION = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def _check_stack_slug(value: str) -> str:
    if not _STACK_SLUG.fullmatch(value):
        raise ValueError(
            "must be 2 to 29 lowercase letters and digits starting with a letter "
            f"(it becomes https://<slug>.grafana.net), got {value!r}"
        )
    return value


def _check_region(value: str) -> str:
    if value not in REGION_ALIASES and not _REGION.fullmatch(value):
        raise ValueError(
            f"must be a Grafana Cloud region: {', '.join(REGION_ALIASES)}, or a cluster slug "
            "such as prod-us-east-0 or prod-ap-southeast-1 "
            f"(list: https://grafana.com/api/stack-regions), got {value!r}"
        )
    return value


def _check_organization(value: str) -> str:
    if not _ORGANIZATION.fullmatch(value):
        raise ValueError(
            "must be your Grafana Cloud organization slug, as in "
            f"https://grafana.com/orgs/<organization>, got {value!r}"
        )
    return value


StackSlug = Annotated[str, AfterValidator(_check_stack_slug)]
Region = Annotated[str, AfterValidator(_check_region)]
OrganizationSlug = Annotated[str, AfterValidator(_check_organization)]


class CloudStackCreate(_Model):
    """A stack this program creates (and, with delete protection off, may delete)."""

    slug: StackSlug
    region: Region


class CloudStackAdopt(_Model):
    """An existing stack, looked up by slug; this program never creates or deletes it."""

    slug: StackSlug


class CloudSettings(_Model):
    """The Grafana Cloud target: create a stack or adopt an existing one, never both."""

    organization: OrganizationSlug
    create: CloudStackCreate | None = None
    adopt: CloudStackAdopt | None = None
    # Grafana Cloud refuses to delete a created stack while this is on, and Pulumi protects it.
    delete_protection: bool = True

    @model_validator(mode="after")
    def _create_or_adopt(self) -> CloudSettings:
        if (self.create is None) == (self.adopt is None):
            raise ValueError("set exactly one of `create` (slug, region) or `adopt` (slug)")
        return self

    @property
    def stack_slug(self) -> str:
        return (self.create or self.adopt).slug  # type: ignore[union-attr]


Severity = Literal["critical", "warning", "info"]
Usd = Annotated[float, Field(gt=0)]
Percent = Annotated[float, Field(gt=0, le=100)]
# Grafana's durations (Prometheus model.Duration): 30s, 5m, 1h30m, 1d, 1w.
_DURATION = re.compile(r"(?:[0-9]+(?:ms|s|m|h|d|w|y))+")
_DURATION_SECONDS = {
    "ms": 0.001,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
    "y": 31536000,
}
_LABEL_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
_RECEIVER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,62}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_HTTP_URL = re.compile(r"https?://[^\s/$.?#][^\s]*")
_AUTH_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_RUNBOOK_BASE_URL = re.compile(r"https?://\S+|docs/runbooks\.md")


def duration_seconds(value: str) -> float:
    """Seconds in a validated Grafana duration such as `1h30m`."""
    return sum(
        float(number) * _DURATION_SECONDS[unit]
        for number, unit in re.findall(r"([0-9]+)(ms|s|m|h|d|w|y)", value)
    )


def _check_duration(value: str) -> str:
    if not _DURATION.fullmatch(value):
        raise ValueError("must be a duration such as 30s, 5m, 4h or 1d")
    return value


Duration = Annotated[str, AfterValidator(_check_duration)]
EmailAddress = Annotated[str, _check_pattern(_EMAIL, "an email address")]
HttpUrl = Annotated[str, _check_pattern(_HTTP_URL, "an http(s) URL")]
LabelValue = Annotated[
    str, _check_pattern(_LABEL_VALUE, "letters, digits, '_', '.' or '-' (at most 63)")
]
ReceiverName = Annotated[
    str, _check_pattern(_RECEIVER_NAME, "letters, digits, spaces, '_', '.' or '-' (at most 63)")
]


class TeamBudget(_Model):
    """One team's spend budgets in USD: per UTC day and per UTC calendar month."""

    daily_usd: Usd
    monthly_usd: Usd

    @model_validator(mode="after")
    def _month_holds_a_day(self) -> TeamBudget:
        if self.monthly_usd < self.daily_usd:
            raise ValueError(
                f"monthlyUsd ({self.monthly_usd:g}) must not be below dailyUsd ({self.daily_usd:g})"
            )
        return self


class AlertThresholds(_Model):
    """When each alert rule fires; defaults come from the seeds (docs/runbooks.md has each rule)."""

    daily_budget_usd: Usd = 50.0
    # No seed gives a monthly budget: 30 days at the daily budget.
    monthly_budget_usd: Usd = 1500.0
    burn_rate_usd_per_hour: Usd = 10.0
    # Last hour's spend over the same hour's 7-day average; the average counts as at least
    # `anomalyBaselineFloorUsd`, so a quiet night's few cents do not make every hour an anomaly.
    anomaly_factor: Annotated[float, Field(gt=1)] = 3.0
    anomaly_baseline_floor_usd: Usd = 1.0
    cost_per_operation_usd: Usd = 0.01
    slo_cost_per_operation_usd: Usd = 0.003
    error_rate_critical_percent: Percent = 10.0
    error_rate_warning_percent: Percent = 5.0
    p95_latency_seconds: Annotated[float, Field(gt=0)] = 30.0
    operation_p95_ms: Annotated[float, Field(gt=0)] = 3000.0
    slo_operation_p95_ms: Annotated[float, Field(gt=0)] = 2000.0
    no_traffic_minutes: Annotated[int, Field(ge=5, le=1440)] = 60
    user_requests_per_hour: Annotated[int, Field(ge=1)] = 50
    session_cost_usd: Usd = 25.0
    # Agents: a session's or a subagent's spending pace, and bursts of refusals and of requests
    # that gave up after their retries (Claude Code events, per user, last 15 minutes).
    runaway_session_usd_per_hour: Usd = 10.0
    runaway_subagent_usd_per_hour: Usd = 5.0
    refusals_in_15_minutes: Annotated[int, Field(ge=1)] = 5
    exhausted_retries_in_15_minutes: Annotated[int, Field(ge=1)] = 3
    # Team (the `team` resource attribute, as the fleet settings set it) -> its own budgets;
    # each team over one fires once, naming the team. No entry: no per-team rule.
    team_budgets: dict[LabelValue, TeamBudget] = {}

    @model_validator(mode="after")
    def _warnings_below_alerts(self) -> AlertThresholds:
        if self.monthly_budget_usd < self.daily_budget_usd:
            raise ValueError(
                f"monthlyBudgetUsd ({self.monthly_budget_usd:g}) must not be below "
                f"dailyBudgetUsd ({self.daily_budget_usd:g})"
            )
        ordered = (
            ("errorRateWarningPercent", "errorRateCriticalPercent"),
            ("sloCostPerOperationUsd", "costPerOperationUsd"),
            ("sloOperationP95Ms", "operationP95Ms"),
        )
        values = self.model_dump(by_alias=True)
        for lower, upper in ordered:
            if values[lower] >= values[upper]:
                raise ValueError(
                    f"{lower} ({values[lower]:g}) must be below {upper} ({values[upper]:g})"
                )
        return self


class EmailReceiver(_Model):
    addresses: Annotated[list[EmailAddress], Field(min_length=1)]


class SlackReceiver(_Model):
    # An incoming-webhook URL is a credential: anyone holding it can post to the channel.
    url: SecretString
    recipient: str | None = None
    mention_channel: Literal["here", "channel"] | None = None


def _webhook_url(value: Any) -> Any:
    """A plain URL stays plain; one that carries credentials must be a Pulumi secret."""
    if not isinstance(value, str):
        raise ValueError("must be an http(s) URL")
    if not _HTTP_URL.fullmatch(value):
        raise ValueError("must be an http(s) URL")
    if isinstance(value, _SecretText):
        return pulumi.Output.secret(str(value))
    parts = urlsplit(value)
    if parts.username is not None or parts.password is not None or parts.query:
        raise ValueError(
            "carries credentials (user:password@ or a query string such as ?token=), so it "
            "must be stored as a secret: set it with `pulumi config set --secret --path "
            "'alerting.receivers[<n>].webhook.url' <url>`"
        )
    return value


class WebhookReceiver(_Model):
    url: Annotated[str | pulumi.Output, BeforeValidator(_webhook_url)]
    # Sent as `Authorization: <scheme> <credentials>`.
    authorization_scheme: Annotated[
        str, _check_pattern(_AUTH_SCHEME, "a letter then letters, digits or '-', such as Bearer")
    ] = "Bearer"
    authorization_credentials: SecretString | None = None
    basic_auth_user: str | None = None
    basic_auth_password: SecretString | None = None

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> WebhookReceiver:
        if (self.basic_auth_user is None) != (self.basic_auth_password is None):
            raise ValueError("set both basicAuthUser and basicAuthPassword, or neither")
        if self.authorization_credentials is not None and self.basic_auth_user is not None:
            raise ValueError("set authorizationCredentials or basic auth, not both")
        return self


class Receiver(_Model):
    """One contact point: exactly one of email, slack or webhook."""

    name: ReceiverName
    severities: Annotated[list[Severity], Field(min_length=1)] = ["critical", "warning"]
    email: EmailReceiver | None = None
    slack: SlackReceiver | None = None
    webhook: WebhookReceiver | None = None

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Receiver:
        kinds = [k for k in ("email", "slack", "webhook") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"set exactly one of email, slack or webhook (got {kinds or 'none'})")
        return self


class RepeatIntervals(_Model):
    """How often a still-firing alert is sent again, by severity."""

    critical: Duration = "1h"
    warning: Duration = "4h"
    # Also what reaches the first receiver when no receiver subscribed to a severity.
    info: Duration = "24h"


class Notifications(_Model):
    group_wait: Duration = "30s"
    group_interval: Duration = "5m"
    repeat_interval: RepeatIntervals = RepeatIntervals()

    @model_validator(mode="after")
    def _repeat_not_shorter_than_group_interval(self) -> Notifications:
        group = duration_seconds(self.group_interval)
        for severity, repeat in self.repeat_interval.model_dump().items():
            if duration_seconds(repeat) < group:
                raise ValueError(
                    f"repeatInterval.{severity} ({repeat}) must not be shorter than "
                    f"groupInterval ({self.group_interval})"
                )
        return self


class AlertingSettings(_Model):
    """Alert thresholds, the team label, and who is notified (no receivers: nobody)."""

    team: LabelValue = "llm-platform"
    # Where docs/runbooks.md is published; each rule links to its section (#anchor).
    runbook_base_url: Annotated[
        str, _check_pattern(_RUNBOOK_BASE_URL, "an http(s) URL, or docs/runbooks.md")
    ] = "docs/runbooks.md"
    thresholds: AlertThresholds = AlertThresholds()
    receivers: list[Receiver] = []
    notifications: Notifications = Notifications()

    @model_validator(mode="after")
    def _unique_receiver_names(self) -> AlertingSettings:
        # Resource names come from receiver names, case and punctuation folded.
        keys = [re.sub(r"[^a-z0-9]+", "-", r.name.lower()) for r in self.receivers]
        pairs = zip(self.receivers, keys, strict=True)
        duplicates = sorted({r.name for r, key in pairs if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"receiver names must be unique: {', '.join(duplicates)}")
        return self


_SALT = re.compile(r"[A-Za-z0-9_-]{16,128}")


def _check_salt(value: Any) -> Any:
    # The salt is spliced into the collector's OTTL statements: no quotes, no `$`, no spaces.
    if isinstance(value, _SecretText) and not _SALT.fullmatch(value):
        raise ValueError("must be 16 to 128 letters, digits, '_' or '-'")
    return value


Salt = Annotated[pulumi.Output, BeforeValidator(_require_secret), BeforeValidator(_check_salt)]
# What the collector does with attributes that name a person (user.email, user.account_uuid,
# user.id, enduser.id): store them as sent, store a salted hash, or store nothing.
UserIdentity = Literal["keep", "hash", "drop"]


class TeamAttribution(_Model):
    """One team's resource attributes in its laptops' Claude Code settings."""

    cost_center: LabelValue | None = None


class FleetSettings(_Model):
    """What the Claude Code settings the stack outputs carry besides the exporter settings."""

    # Team name -> its attributes: one managed-settings.json per team, each setting
    # OTEL_RESOURCE_ATTRIBUTES=team=<name>[,cost_center=<cost center>].
    teams: dict[LabelValue, TeamAttribution] = {}


class Settings(_Model):
    """Everything a stack configures: the `llm-o11y:` keys of `stacks/Pulumi.<stack>.yaml`."""

    target: Literal["local", "cloud"] = "local"
    local: LocalSettings = LocalSettings()
    cloud: CloudSettings | None = None
    grafana_admin_password: Password | None = None
    cloud_access_policy_token: SecretString | None = None
    alerting: AlertingSettings = AlertingSettings()
    user_identity: UserIdentity = "keep"
    user_identity_salt: Salt | None = None
    fleet: FleetSettings = FleetSettings()

    @model_validator(mode="after")
    def _user_identity_can_be_applied(self) -> Settings:
        if self.user_identity == "keep":
            return self
        if self.target == "cloud":
            raise ValueError(
                f"{PROJECT}:userIdentity: '{self.user_identity}' is applied by the local "
                "stack's collector; with target 'cloud' apps send straight to Grafana Cloud, "
                "so only 'keep' is allowed"
            )
        if self.user_identity == "hash" and self.user_identity_salt is None:
            raise ValueError(
                f"{PROJECT}:userIdentitySalt required when userIdentity is 'hash': "
                "`pulumi config set --secret userIdentitySalt <16+ letters, digits, _ or ->`"
            )
        return self

    @model_validator(mode="after")
    def _target_has_its_settings(self) -> Settings:
        if self.target == "cloud":
            missing = [
                f"{PROJECT}:{key}"
                for key, value in (
                    ("cloud", self.cloud),
                    ("cloudAccessPolicyToken", self.cloud_access_policy_token),
                )
                if value is None
            ]
            if missing:
                raise ValueError(
                    f"{' and '.join(missing)} required when target is 'cloud' "
                    "(the token with `pulumi config set --secret`)"
                )
        return self


def _error_heading(source: str) -> str:
    return f"invalid stack settings ({source}):\n  "


# Secrets a stack cannot run without, which a committed stack file cannot hold for everyone:
# each user sets them (`pulumi config set --secret`); tools/synth stands in for them.
# (setting, value that needs it, secret)
REQUIRED_SECRETS: tuple[tuple[str, str, str], ...] = (
    ("target", "cloud", "cloudAccessPolicyToken"),
    ("userIdentity", "hash", "userIdentitySalt"),
)


def required_secrets(values: Mapping[str, Any]) -> tuple[str, ...]:
    """The secrets `values` (the `llm-o11y:` settings, keys without the prefix) need."""
    defaults = {"target": "local", "userIdentity": "keep"}
    return tuple(
        secret
        for setting, needs_it, secret in REQUIRED_SECRETS
        if values.get(setting, defaults[setting]) == needs_it
    )


def _project_config() -> tuple[dict[str, Any], set[str]]:
    """All `llm-o11y:*` config values and the keys Pulumi holds as secrets.

    The engine hands config to the program in PULUMI_CONFIG; mocks set it in-process.
    Pulumi's Config API reads one key at a time, so unknown keys need this full view.
    """
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = set(runtime_config.get_config_secret_keys_env())
    secret_keys |= {key for key in raw if runtime_config.is_config_secret(key)}
    prefix = f"{PROJECT}:"
    values = {k.removeprefix(prefix): v for k, v in raw.items() if k.startswith(prefix)}
    return values, {k.removeprefix(prefix) for k in secret_keys if k.startswith(prefix)}


def _decode(value: Any) -> Any:
    """Structured config values arrive JSON-encoded; scalars arrive as plain strings."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


# `pulumi config set --path` types only `true`/`false` and integers; `0.02` stays a string,
# and a flat key's value is always one. Strings are read as numbers or booleans only where
# the model expects one, so "0.02" fills a float field and stays text in a string field.
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _scalar_from_text(text: str, target: type) -> Any:
    if target is bool and text in ("true", "false"):
        return text == "true"
    if target is int and _INTEGER.fullmatch(text):
        return int(text)
    if target is float and _DECIMAL.fullmatch(text):
        return float(text)
    return text


def _field_annotation(model: type[BaseModel], key: str) -> Any:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field.annotation
    return None


def _coerce(annotation: Any, value: Any) -> Any:
    """`value` with config strings turned into the numbers and booleans `annotation` expects."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _coerce(get_args(annotation)[0], value)
    if origin in (Union, UnionType):
        for member in get_args(annotation):
            coerced = _coerce(member, value)
            if coerced is not value:
                return coerced
        return value
    if origin is list and isinstance(value, list):
        (item,) = get_args(annotation)
        return [_coerce(item, v) for v in value]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if isinstance(value, Mapping):
            return {k: _coerce(_field_annotation(annotation, k), v) for k, v in value.items()}
        return value
    if annotation in (bool, int, float) and type(value) is str:
        return _scalar_from_text(value, annotation)
    return value


def _place(document: dict[str, Any], path: list[str], value: Any) -> bool:
    """Put `value` at `path`, merging mappings and replacing what is there; False if a
    setting on the way is not a mapping."""
    head, rest = path[0], path[1:]
    if rest:
        node = document.setdefault(head, {})
        return isinstance(node, dict) and _place(node, rest, value)
    existing = document.get(head)
    if isinstance(existing, dict) and isinstance(value, Mapping):
        return all(_place(existing, [name], item) for name, item in value.items())
    document[head] = value
    return True


def _nest(values: Mapping[str, Any], secret_keys: set[str], source: str) -> dict[str, Any]:
    """Config as `pulumi config set` stores it -> one nested document.

    Without `--path` the CLI stores a dotted key flat (`local.ports.grafana`) beside the file's
    `local` block; with it, nested inside. Both mean the same setting, and the dotted key, the
    more specific, wins: it is what `pulumi config set` without `--path` leaves behind.
    """
    document: dict[str, Any] = {}
    problems = []
    for key in sorted(values, key=lambda k: (k.count("."), k)):
        value = _decode(values[key])
        if key in secret_keys:
            value = _mark_secret(value)
        if "[" in key or "" in key.split("."):
            problems.append(
                f"{PROJECT}:{key}: not a setting name; set list items with "
                f"`pulumi config set --path '{key}' <value>`"
            )
        elif not _place(document, key.split("."), value):
            problems.append(
                f"{PROJECT}:{key}: its parent setting is not a mapping; set it with "
                f"`pulumi config set --path '{key}' <value>`"
            )
    if problems:
        raise SettingsError(_error_heading(source) + "\n  ".join(problems))
    return document


def _mark_secret(value: Any) -> Any:
    if isinstance(value, str):
        return _SecretText(value)
    if isinstance(value, Mapping):
        return {k: _mark_secret(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_secret(v) for v in value]
    return value


def config_path(loc: tuple[Any, ...]) -> str:
    """A validation location as `pulumi config set --path` spells it: `receivers[0].name`."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path


def _describe(error: Mapping[str, Any]) -> str:
    key = config_path(tuple(error["loc"]))
    message = re.sub(r"^Value error, ", "", error["msg"])
    if not key:
        return message
    where = f"{PROJECT}:{key}"
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown setting"
    if error["type"] == "model_type":
        # pydantic names the model class here; a reader of the stack file needs the shape.
        message = "must be a mapping of settings (indented `key: value` lines)"
    if error["type"] not in ("value_error", "missing") and "input" in error:
        given = error["input"]
        if not isinstance(given, Mapping | list) and not isinstance(given, _SecretText):
            message += f" (got {given!r})"
    return f"{where}: {message}"


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Keys accepted at `loc`, for an 'unknown setting' hint."""
    for part in loc[:-1]:
        if isinstance(part, int):  # an index into a list of models
            continue
        field = next((f for name, f in model.model_fields.items() if part in (name, f.alias)), None)
        annotation = getattr(field, "annotation", None)
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        nested = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if nested is None:
            return []
        model = nested
    return sorted(f.alias or name for name, f in model.model_fields.items())


def parse_settings(
    values: Mapping[str, Any], secret_keys: set[str], source: str = "stacks/Pulumi.<stack>.yaml"
) -> Settings:
    """Validate `llm-o11y:*` config values (keys without the project prefix) read from `source`.

    Keys may be nested (`local: {ports: ...}`) or flat (`local.ports.grafana`), as the CLI
    writes them with and without `--path`.
    """
    document = _coerce(Settings, _nest(values, secret_keys, source))
    try:
        return Settings.model_validate(document)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            line = _describe(error)
            if error["type"] == "extra_forbidden":
                allowed = _allowed_keys(Settings, tuple(error["loc"]))
                line += f"; allowed here: {', '.join(allowed)}"
            lines.append(line)
        raise SettingsError(_error_heading(source) + "\n  ".join(lines)) from None


def load_settings() -> Settings:
    """Read and validate this stack's settings; raises SettingsError naming each bad key."""
    # Imported here: components.stack_file imports this module.
    from components.stack_file import check_stack_file, stack_file_name

    stack = pulumi.get_stack()
    check_stack_file(stack)
    values, secret_keys = _project_config()
    return parse_settings(values, secret_keys, stack_file_name(stack))
