"""The Grafana Cloud target under mocks: what `pulumi up -s prod` would declare, and how."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from components.settings import parse_settings
from tests.support import program
from tools import synth
from tools.synth import (
    MOCK_ADOPTED_REGION,
    MOCK_STACK_ID,
    SECRET_PLACEHOLDER,
    Plan,
    contains_secret,
    mock_token,
)

STACK = "grafana:cloud/stack:Stack"
GET_STACK = "grafana:cloud/getStack:getStack"
SERVICE_ACCOUNT = "grafana:cloud/stackServiceAccount:StackServiceAccount"
SERVICE_ACCOUNT_TOKEN = "grafana:cloud/stackServiceAccountToken:StackServiceAccountToken"
ACCESS_POLICY = "grafana:cloud/accessPolicy:AccessPolicy"
ACCESS_POLICY_TOKEN = "grafana:cloud/accessPolicyToken:AccessPolicyToken"
APP_O11Y = "grafana:cloud/v1alpha1/productActivationAppO11yConfig:ProductActivationAppO11yConfig"
GRAFANA_PROVIDER = "pulumi:providers:grafana"
DATASOURCE = "grafana:oss/dataSource:DataSource"

# What stacks/Pulumi.prod.yaml says.
PROD_SLUG = "examplellmo11y"
PROD_REGION = "prod-us-east-0"
STACK_URL = f"https://{PROD_SLUG}.grafana.net"

ADOPT = {"target": "cloud", "cloud": {"organization": "acme", "adopt": {"slug": "acmeprod"}}}
TOKEN = {"cloudAccessPolicyToken": "glc_user_supplied_token_value"}


@pytest.fixture(scope="module")
def prod_plan() -> Plan:
    return synth.synth("prod")


@pytest.fixture(scope="module")
def adopt_plan() -> Plan:
    return program.run(ADOPT, secrets=TOKEN)


@pytest.fixture(scope="module")
def local_plan() -> Plan:
    return synth.synth("local")


def only(plan: Plan, type_token: str) -> synth.DeclaredResource:
    found = plan.of_type(type_token)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def cloud_api_provider(plan: Plan) -> synth.DeclaredResource:
    return next(p for p in plan.of_type(GRAFANA_PROVIDER) if "cloudAccessPolicyToken" in p.inputs)


def stack_provider(plan: Plan) -> synth.DeclaredResource:
    return next(p for p in plan.of_type(GRAFANA_PROVIDER) if "url" in p.inputs)


# The stack, created or adopted


def test_the_example_creates_a_delete_protected_stack_with_the_cloud_api_provider(
    prod_plan: Plan,
) -> None:
    stack = only(prod_plan, STACK)
    assert stack.inputs["slug"] == PROD_SLUG
    assert stack.inputs["regionSlug"] == PROD_REGION
    assert stack.inputs["deleteProtection"] is True
    assert stack.options["protect"] is True
    assert stack.provider == cloud_api_provider(prod_plan).name
    assert prod_plan.of_type(GET_STACK) == []


def test_turning_delete_protection_off_unprotects_the_stack_in_pulumi_too() -> None:
    settings = {
        "target": "cloud",
        "cloud": {
            "organization": "acme",
            "create": {"slug": "acmellm", "region": "eu"},
            "deleteProtection": False,
        },
    }
    stack = only(program.run(settings, secrets=TOKEN), STACK)
    assert stack.inputs["deleteProtection"] is False
    assert stack.options["protect"] is False


def test_adopting_looks_the_stack_up_and_creates_none(adopt_plan: Plan) -> None:
    assert adopt_plan.of_type(STACK) == []
    lookup = only(adopt_plan, GET_STACK)
    assert lookup.inputs == {"slug": "acmeprod"}
    assert lookup.provider == cloud_api_provider(adopt_plan).name
    # Everything else hangs off what the lookup found.
    assert stack_provider(adopt_plan).inputs["url"] == "https://acmeprod.grafana.net"
    for policy in adopt_plan.of_type(ACCESS_POLICY):
        assert policy.inputs["region"] == MOCK_ADOPTED_REGION


def test_an_adopted_stack_keeps_app_observability_when_we_are_destroyed(
    prod_plan: Plan, adopt_plan: Plan
) -> None:
    assert only(adopt_plan, APP_O11Y).options["retainOnDelete"] is True
    assert only(prod_plan, APP_O11Y).options["retainOnDelete"] is False


# Service account, its token, and the stack's own Grafana provider


def test_a_service_account_and_token_for_pulumi_on_the_stack(prod_plan: Plan) -> None:
    account = only(prod_plan, SERVICE_ACCOUNT)
    assert account.inputs["stackSlug"] == PROD_SLUG
    assert account.inputs["role"] == "Admin"
    assert account.inputs["isDisabled"] is False
    token = only(prod_plan, SERVICE_ACCOUNT_TOKEN)
    assert token.inputs["stackSlug"] == PROD_SLUG
    assert token.inputs["serviceAccountId"] == f"{account.name}-id"
    # `key` is a secret output of the provider itself.
    assert token.options["additionalSecretOutputs"] == ["key"]
    for declared in (account, token):
        assert declared.provider == cloud_api_provider(prod_plan).name


def test_grafana_provider_is_built_from_the_stack_url_and_the_service_account_token(
    prod_plan: Plan,
) -> None:
    provider = stack_provider(prod_plan)
    assert provider.inputs["url"] == STACK_URL
    assert provider.inputs["auth"] == "[secret]"
    assert contains_secret(provider.raw_inputs["auth"])
    # App Platform resources resolve the stack's namespace from stack_id.
    assert provider.inputs["stackId"] == MOCK_STACK_ID
    token = only(prod_plan, SERVICE_ACCOUNT_TOKEN)
    assert token.name in provider.options["dependsOn"]
    assert "cloudAccessPolicyToken" not in provider.inputs


def test_the_cloud_api_provider_gets_the_users_token_as_a_secret(prod_plan: Plan) -> None:
    provider = cloud_api_provider(prod_plan)
    assert provider.inputs == {"cloudAccessPolicyToken": "[secret]"}
    assert contains_secret(provider.raw_inputs["cloudAccessPolicyToken"])


# Least-privilege access policies


@pytest.mark.parametrize(
    ("purpose", "scopes"),
    [
        ("read", ["metrics:read", "logs:read", "traces:read"]),
        ("write", ["metrics:write", "logs:write", "traces:write"]),
    ],
)
def test_access_policies_have_exactly_these_scopes_on_this_stack_only(
    prod_plan: Plan, purpose: str, scopes: list[str]
) -> None:
    policies = {p.inputs["name"]: p for p in prod_plan.of_type(ACCESS_POLICY)}
    assert sorted(policies) == [f"llm-o11y-{PROD_SLUG}-read", f"llm-o11y-{PROD_SLUG}-write"]
    policy = policies[f"llm-o11y-{PROD_SLUG}-{purpose}"]
    assert policy.inputs["scopes"] == scopes
    assert policy.inputs["realms"] == [{"identifier": MOCK_STACK_ID, "type": "stack"}]
    assert policy.inputs["region"] == PROD_REGION
    tokens = [
        t
        for t in prod_plan.of_type(ACCESS_POLICY_TOKEN)
        if t.inputs["accessPolicyId"] == f"{policy.name}-policy-id"
    ]
    assert len(tokens) == 1
    assert tokens[0].inputs["region"] == PROD_REGION
    assert tokens[0].options["additionalSecretOutputs"] == ["token"]


# App Observability


def test_app_observability_is_activated_on_the_stack(prod_plan: Plan) -> None:
    activation = only(prod_plan, APP_O11Y)
    assert activation.inputs["metadata"] == {"uid": "global"}
    assert activation.inputs["spec"] == {"enabled": True}
    assert activation.provider == stack_provider(prod_plan).name


# Datasources


def test_datasources_have_the_local_uids_on_the_stack_provider(prod_plan: Plan) -> None:
    datasources = {d.inputs["uid"]: d for d in prod_plan.of_type(DATASOURCE)}
    assert sorted(datasources) == ["loki", "prometheus", "tempo"]
    region = PROD_REGION
    urls = {
        "prometheus": (f"https://prometheus-{region}.grafana.net/api/prom", "1100001"),
        "loki": (f"https://logs-{region}.grafana.net", "1100002"),
        "tempo": (f"https://tempo-{region}.grafana.net/tempo", "1100003"),
    }
    for uid, declared in datasources.items():
        assert declared.provider == stack_provider(prod_plan).name
        assert declared.inputs["type"] == uid
        assert (declared.inputs["url"], declared.inputs["basicAuthUsername"]) == urls[uid]
        assert declared.inputs["basicAuthEnabled"] is True
        assert declared.inputs["secureJsonDataEncoded"] == "[secret]"
        assert contains_secret(declared.raw_inputs["secureJsonDataEncoded"])
        # Authenticated with the read token, not the write one.
        assert "cloud-read-token" in declared.options["dependsOn"]
        assert "cloud-write-token" not in declared.options["dependsOn"]


def test_the_builtin_grafanacloud_datasources_are_left_alone(prod_plan: Plan) -> None:
    for declared in prod_plan.of_type(DATASOURCE):
        assert not declared.inputs["uid"].startswith("grafanacloud-")
        assert not declared.inputs["name"].startswith("grafanacloud-")


def test_datasources_are_configured_as_on_the_local_stack(
    prod_plan: Plan, local_plan: Plan
) -> None:
    def settings(plan: Plan) -> dict[str, tuple[Any, ...]]:
        return {
            d.inputs["uid"]: (
                d.name,
                d.inputs["type"],
                d.inputs["name"],
                d.inputs["jsonDataEncoded"],
            )
            for d in plan.of_type(DATASOURCE)
        }

    assert settings(prod_plan) == settings(local_plan)


# Same content as local


def grafana_content(plan: Plan) -> dict[tuple[str, str], dict[str, Any]]:
    """Folders, dashboards and alerting (every oss/alerting resource but datasources)."""
    return {
        (r.type, r.name): r.inputs
        for r in plan.resources
        if r.type.startswith(("grafana:oss/", "grafana:alerting/")) and r.type != DATASOURCE
    }


def without_recording_target(content: dict[tuple[str, str], dict[str, Any]]) -> str:
    text = json.dumps({" ".join(key): inputs for key, inputs in content.items()}, sort_keys=True)
    return re.sub(r'"targetDatasourceUid": "[^"]*"', "", text)


def test_folders_dashboards_and_alerting_have_the_same_inputs_as_local(
    prod_plan: Plan, local_plan: Plan
) -> None:
    # Compared on inputs only: the provider (and so the target) is one allowed difference, the
    # datasource recorded series are written to the other (Target.recording_datasource_uid).
    prod, local = grafana_content(prod_plan), grafana_content(local_plan)
    assert without_recording_target(prod) == without_recording_target(local)
    targets = {
        name: {
            r["record"]["targetDatasourceUid"]
            for g in plan.of_type("grafana:alerting/ruleGroup:RuleGroup")
            for r in g.inputs["rules"]
            if "record" in r
        }
        for name, plan in (("prod", prod_plan), ("local", local_plan))
    }
    assert targets == {"prod": {"grafanacloud-prom"}, "local": {"prometheus"}}


# Secrets


def planted_secrets() -> list[str]:
    """Every token value the mocks hand the program, and what the program builds from them."""
    write = mock_token(ACCESS_POLICY_TOKEN, "cloud-write-token")
    values = [
        SECRET_PLACEHOLDER,
        TOKEN["cloudAccessPolicyToken"],
        mock_token(SERVICE_ACCOUNT_TOKEN, "cloud-service-account-token"),
        mock_token(ACCESS_POLICY_TOKEN, "cloud-read-token"),
        write,
    ]
    credentials = base64.b64encode(f"{MOCK_STACK_ID}:{write}".encode()).decode()
    return [*values, credentials]


@pytest.mark.parametrize("plan_name", ["prod_plan", "adopt_plan"])
def test_no_token_or_header_appears_in_plain_text(
    plan_name: str, request: pytest.FixtureRequest
) -> None:
    text = request.getfixturevalue(plan_name).as_json()
    for secret in planted_secrets():
        assert secret not in text


def test_every_output_carrying_a_credential_is_secret(prod_plan: Plan) -> None:
    outputs = prod_plan.outputs
    for key in (
        "otlpAuthorizationHeader",
        "claudeCodeEnv",
        "otelSdkEnv",
        "claudeCodeManagedSettings",
        "claudeCodeSettingsEnv",
    ):
        assert outputs[key] == "[secret]", key
    assert outputs["grafanaUrl"] == STACK_URL
    assert outputs["otlpHttpEndpoint"] == f"https://otlp-gateway-{PROD_REGION}.grafana.net/otlp"
    assert outputs["cloudPortalUrl"] == "https://grafana.com/orgs/example-org"


# The values behind the secrets, read by running the component directly under the same mocks


def run_cloud_stack(settings: dict[str, Any], check: Callable[[dict[str, Any]], None]) -> None:
    """Declare CloudStack under tools.synth's mocks and call `check` with its resolved exports."""
    from pulumi.runtime import settings as runtime_settings

    from components.cloud_stack import CloudStack, CloudStackArgs

    # As Pulumi hands config to a program: scalars as text, structures JSON-encoded.
    values = {k: v if isinstance(v, str) else json.dumps(v) for k, v in settings.items()}
    parsed = parse_settings({**values, **TOKEN}, set(TOKEN))
    mocks, monitor = synth._build_mocks([])
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        mocks, project=synth.PROJECT, stack="test", preview=False, monitor=monitor
    )

    @pulumi.runtime.test
    def declare() -> pulumi.Output[None]:
        exports = CloudStack("cloud", CloudStackArgs.from_settings(parsed)).target.exports
        keys = sorted(exports)
        return pulumi.Output.all(*(exports[k] for k in keys)).apply(
            lambda values: check(dict(zip(keys, values, strict=True)))
        )

    declare()


def test_the_otlp_header_is_basic_auth_of_the_stack_id_and_the_write_token() -> None:
    write = mock_token(ACCESS_POLICY_TOKEN, "cloud-write-token")
    expected = "Basic " + base64.b64encode(f"{MOCK_STACK_ID}:{write}".encode()).decode()
    seen: dict[str, Any] = {}
    run_cloud_stack(ADOPT, seen.update)
    assert seen["otlpAuthorizationHeader"] == expected
    # Percent-encoded as the variable's format asks: space and base64 padding.
    encoded = expected.replace(" ", "%20").replace("=", "%3D")
    for block in ("claudeCodeEnv", "otelSdkEnv"):
        assert f'export OTEL_EXPORTER_OTLP_HEADERS="Authorization={encoded}"' in seen[block]
        assert "export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf" in seen[block]
        assert "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=cumulative" in seen[block]
        assert (
            f"export OTEL_EXPORTER_OTLP_ENDPOINT=https://otlp-gateway-{MOCK_ADOPTED_REGION}"
            ".grafana.net/otlp" in seen[block]
        )
    assert "CLAUDE_CODE_ENABLE_TELEMETRY=1" in seen["claudeCodeEnv"]
    managed = json.loads(seen["claudeCodeManagedSettings"])["env"]
    assert managed["OTEL_EXPORTER_OTLP_HEADERS"] == f"Authorization={encoded}"
    assert managed == seen["claudeCodeSettingsEnv"]


def test_the_headers_variable_percent_encodes_the_space_and_base64_padding() -> None:
    from components.cloud_stack import basic_auth, otlp_headers_env

    header = basic_auth("123456", "glc_x+y/z")
    assert header == "Basic " + base64.b64encode(b"123456:glc_x+y/z").decode()
    assert header.endswith("=")
    encoded = otlp_headers_env(header)
    assert encoded == "Authorization=Basic%20" + header.removeprefix("Basic ").replace("=", "%3D")
    # One key=value pair, nothing a W3C Baggage parser would split on.
    assert encoded.count("=") == 1 and " " not in encoded and "," not in encoded


# Every resource on an explicit provider


def test_every_resource_uses_an_explicit_provider(prod_plan: Plan, adopt_plan: Plan) -> None:
    for plan in (prod_plan, adopt_plan):
        for declared in plan.resources:
            is_component = declared.type.startswith("llm-o11y:")
            is_provider = declared.type.startswith("pulumi:providers:")
            if not (is_component or is_provider):
                assert declared.provider, declared.name


def test_the_example_stack_file_disables_default_providers() -> None:
    config = synth.load_stack_file("prod")["config"]
    assert config["pulumi:disable-default-providers"] == ["*"]
    # Set by each user: a committed `secure:` value only decrypts with its author's key.
    assert "llm-o11y:cloudAccessPolicyToken" not in config


# Settings that must fail before anything is declared

CREATE = {"organization": "acme", "create": {"slug": "acmellm", "region": "prod-us-east-0"}}


def cloud(**changes: Any) -> dict[str, Any]:
    return {"target": "cloud", "cloud": {**CREATE, **changes}}


MALFORMED: list[tuple[str, dict[str, Any], dict[str, str], str]] = [
    ("no token", cloud(), {}, "llm-o11y:cloudAccessPolicyToken required"),
    (
        "token in plain text",
        {**cloud(), "cloudAccessPolicyToken": "glc_plain"},
        {},
        "llm-o11y:cloudAccessPolicyToken: must be stored as a secret",
    ),
    ("no cloud block", {"target": "cloud"}, TOKEN, "llm-o11y:cloud required when target"),
    (
        "bad region",
        cloud(create={"slug": "acmellm", "region": "US East"}),
        TOKEN,
        "llm-o11y:cloud.create.region: must be a Grafana Cloud region",
    ),
    (
        "region with a typo",
        cloud(create={"slug": "acmellm", "region": "prod-us-east"}),
        TOKEN,
        "llm-o11y:cloud.create.region",
    ),
    (
        "both create and adopt",
        cloud(adopt={"slug": "acmeprod"}),
        TOKEN,
        "llm-o11y:cloud: set exactly one of `create` (slug, region) or `adopt` (slug)",
    ),
    (
        "neither create nor adopt",
        {"target": "cloud", "cloud": {"organization": "acme"}},
        TOKEN,
        "llm-o11y:cloud: set exactly one",
    ),
    (
        "slug with a hyphen",
        cloud(create={"slug": "acme-llm", "region": "eu"}),
        TOKEN,
        "llm-o11y:cloud.create.slug: must be 2 to 29 lowercase letters and digits",
    ),
    (
        "slug starting with a digit",
        {"target": "cloud", "cloud": {"organization": "acme", "adopt": {"slug": "1acme"}}},
        TOKEN,
        "llm-o11y:cloud.adopt.slug",
    ),
    (
        "slug too long",
        cloud(create={"slug": "a" * 30, "region": "eu"}),
        TOKEN,
        "llm-o11y:cloud.create.slug",
    ),
    (
        "uppercase slug",
        cloud(create={"slug": "AcmeLlm", "region": "eu"}),
        TOKEN,
        "llm-o11y:cloud.create.slug",
    ),
    (
        "no organization",
        {"target": "cloud", "cloud": {"create": CREATE["create"]}},
        TOKEN,
        "llm-o11y:cloud.organization: Field required",
    ),
    (
        "organization as a URL",
        cloud(organization="https://grafana.com/orgs/acme"),
        TOKEN,
        "llm-o11y:cloud.organization: must be your Grafana Cloud organization slug",
    ),
    (
        "delete protection as text",
        cloud(deleteProtection="no"),
        TOKEN,
        "llm-o11y:cloud.deleteProtection: Input should be a valid boolean",
    ),
    (
        "misspelt key",
        cloud(deleteProtecton=False),
        TOKEN,
        "llm-o11y:cloud.deleteProtecton: unknown setting; allowed here: adopt, create",
    ),
]


@pytest.mark.parametrize(
    ("settings", "secrets", "expected"),
    [pytest.param(s, sec, e, id=case) for case, s, sec, e in MALFORMED],
)
def test_malformed_cloud_settings_fail_before_any_resource_naming_the_key(
    settings: dict[str, Any], secrets: dict[str, str], expected: str
) -> None:
    assert expected in program.rejection(settings, secrets)


@pytest.mark.parametrize("region", ["us", "eu", "au", "us-azure", "prod-ap-southeast-1"])
def test_region_slugs_of_both_shapes_are_accepted(region: str) -> None:
    settings = cloud(create={"slug": "acmellm", "region": region})
    stack = only(program.run(settings, secrets=TOKEN), STACK)
    assert stack.inputs["regionSlug"] == region


@pytest.mark.parametrize("mode", ["hash", "drop"])
def test_user_identity_rules_need_our_collector_so_cloud_refuses_them(mode: str) -> None:
    settings = {**ADOPT, "userIdentity": mode}
    secrets = {**TOKEN, "userIdentitySalt": "cloud-salt-0123456789"}

    message = program.rejection(settings, secrets)

    assert f"llm-o11y:userIdentity: '{mode}' is applied by the local stack's collector" in message
