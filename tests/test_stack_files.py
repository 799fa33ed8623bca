# ruff: noqa: E501 - one malformed file per table row reads best on one line
"""Malformed stack files: each is refused before any resource is declared, naming the file, the
key and what is allowed, with exit status 2 and no traceback from `tools.synth`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.settings import SettingsError
from tools import synth
from tools.synth import DeclaredResource

STACK = "malformed"
SECRET = {"secure": "v1:cGxhY2Vob2xkZXI=:UkVQTEFDRS1NRQ=="}
CLOUD_OK = {"organization": "acme", "create": {"slug": "acmellm", "region": "us"}}


def config(**keys: Any) -> dict[str, Any]:
    """A stack document whose `config:` holds these `llm-o11y:<key>` values."""
    return {"config": {f"llm-o11y:{key}": value for key, value in keys.items()}}


def local(**values: Any) -> dict[str, Any]:
    return config(local=values)


def thresholds(**values: Any) -> dict[str, Any]:
    return config(alerting={"thresholds": values})


def receiver(**kind: Any) -> dict[str, Any]:
    return config(alerting={"receivers": [{"name": "oncall", **kind}]})


def webhook(**values: Any) -> dict[str, Any]:
    return receiver(webhook={"url": "https://hooks.example.com/x", **values})


def cloud(**values: Any) -> dict[str, Any]:
    document = config(target="cloud", cloud={**CLOUD_OK, **values})
    document["config"]["llm-o11y:cloudAccessPolicyToken"] = SECRET
    return document


# (case, the file: text, bytes or a document to dump, fragments the message must hold)
MALFORMED: list[tuple[str, str | bytes | dict[str, Any], list[str]]] = [
    # The file as a whole
    ("namespace misspelt", "config:\n  llm-o1ly:target: cloud\n", ["llm-o1ly:target", "unknown namespace", "did you mean `llm-o11y`", "allowed: llm-o11y:"]),
    ("namespace without dash", "config:\n  llmo11y:local: {}\n", ["llmo11y:local", "unknown namespace", "allowed: llm-o11y:"]),
    ("provider namespace misspelt", "config:\n  grafna:url: http://x\n", ["grafna:url", "did you mean `grafana`"]),
    ("config misspelt", "confg:\n  llm-o11y:target: cloud\n", ["confg: unknown top-level key", "did you mean `config`", "allowed: config"]),
    ("config capitalised", "Config:\n  llm-o11y:target: local\n", ["Config: unknown top-level key", "allowed: config"]),
    ("unknown top-level key", "settings:\n  target: local\n", ["settings: unknown top-level key", "allowed: config"]),
    ("config as a list", "config:\n  - llm-o11y:target: local\n", ["config: must be a mapping", "not a list"]),
    ("config as text", "config: local\n", ["config: must be a mapping", "not text"]),
    ("config as a number", "config: 5\n", ["config: must be a mapping", "not a number"]),
    ("config written twice", "config:\n  llm-o11y:target: cloud\nconfig:\n  llm-o11y:target: local\n", ["line 3", "'config' is written twice", "first on line 1"]),
    ("key written twice", "config:\n  llm-o11y:alerting: {team: a}\n  llm-o11y:alerting: {team: b}\n", ["line 3", "'llm-o11y:alerting' is written twice"]),
    ("nested key written twice", "config:\n  llm-o11y:local:\n    ports:\n      grafana: 3000\n      grafana: 3001\n", ["line 5", "'grafana' is written twice"]),
    ("unclosed quote", 'config:\n  llm-o11y:target: "local\n', ["line 3", "invalid YAML", "quoted scalar"]),
    ("unclosed flow mapping", "config:\n  llm-o11y:local: {bindAddress: 127.0.0.1\n", ["invalid YAML", "flow mapping"]),
    ("tab indentation", "config:\n\tllm-o11y:target: local\n", ["line 2", "invalid YAML"]),
    ("bad indentation", "config:\n  llm-o11y:target: local\n llm-o11y:local: {}\n", ["line 3", "invalid YAML"]),
    ("two documents", "config: {}\n---\nconfig: {}\n", ["line 2", "invalid YAML", "single document"]),
    ("python tag", "config:\n  llm-o11y:target: !!python/object:os.system x\n", ["line 2", "constructor"]),
    ("not UTF-8", b"config:\n  llm-o11y:target: l\xffcal\n", ["line 2", "not UTF-8 text"]),
    ("UTF-16", "config:\n  llm-o11y:target: local\n".encode("utf-16"), ["line 1", "not UTF-8 text"]),
    ("a list at the top", "- config\n- target\n", ["must be a mapping with a `config:` key"]),
    ("text at the top", "llm-o11y:target local\n", ["must be a mapping with a `config:` key"]),
    ("key without a name", "config:\n  'llm-o11y:': local\n", ["llm-o11y:: a key needs a name"]),
    ("number as a key", "config:\n  5: local\n", ["config: 5: a config key must be text"]),
    ("list as a key", "config:\n  ? [a, b]\n  : local\n", ["line 2", "a key must be plain text"]),
    # target
    ("target unknown", config(target="aws"), ["llm-o11y:target", "'local' or 'cloud'", "'aws'"]),
    ("target a number", config(target=5), ["llm-o11y:target", "'local' or 'cloud'"]),
    ("target a boolean", config(target=True), ["llm-o11y:target", "'local' or 'cloud'"]),
    ("target a list", config(target=["local"]), ["llm-o11y:target", "'local' or 'cloud'"]),
    ("target misspelt key", config(targt="local"), ["llm-o11y:targt: unknown setting", "allowed here: alerting, cloud"]),
    # local
    ("local as text", config(local="docker"), ["llm-o11y:local: must be a mapping of settings"]),
    ("local as a list", config(local=["ports"]), ["llm-o11y:local: must be a mapping of settings"]),
    ("local unknown key", local(port={"grafana": 3000}), ["llm-o11y:local.port: unknown setting", "allowed here: bindAddress"]),
    ("ports as a list", local(ports=[3000]), ["llm-o11y:local.ports: must be a mapping of settings"]),
    ("ports unknown service", local(ports={"mimir": 9009}), ["llm-o11y:local.ports.mimir: unknown setting", "allowed here: grafana"]),
    ("port as text", local(ports={"grafana": "three thousand"}), ["llm-o11y:local.ports.grafana", "valid integer"]),
    ("port with a fraction", local(ports={"grafana": 3000.5}), ["llm-o11y:local.ports.grafana", "valid integer"]),
    ("port a boolean", local(ports={"grafana": True}), ["llm-o11y:local.ports.grafana", "valid integer"]),
    ("port negative", local(ports={"tempo": -1}), ["llm-o11y:local.ports.tempo", "greater than or equal to 1"]),
    ("port zero", local(ports={"loki": 0}), ["llm-o11y:local.ports.loki", "greater than or equal to 1"]),
    ("port too large", local(ports={"otlpGrpc": 70000}), ["llm-o11y:local.ports.otlpGrpc", "less than or equal to 65535"]),
    ("two services on one port", local(ports={"grafana": 9090}), ["llm-o11y:local.ports", "both use port 9090"]),
    ("bind to a host name", local(bindAddress="localhost"), ["llm-o11y:local.bindAddress", "must be an IP address"]),
    ("bind to multicast", local(bindAddress="224.0.0.1"), ["llm-o11y:local.bindAddress", "unicast", "multicast"]),
    ("bind to IPv6 multicast", local(bindAddress="ff02::1"), ["llm-o11y:local.bindAddress", "multicast"]),
    ("bind to a number", local(bindAddress=2130706433), ["llm-o11y:local.bindAddress", "IP"]),
    ("retention zero", local(retentionDays={"loki": 0}), ["llm-o11y:local.retentionDays.loki", "greater than or equal to 1"]),
    ("retention too long", local(retentionDays={"tempo": 4000}), ["llm-o11y:local.retentionDays.tempo", "less than or equal to 3650"]),
    ("retention with a unit", local(retentionDays={"prometheus": "15d"}), ["llm-o11y:local.retentionDays.prometheus", "valid integer"]),
    ("retention a fraction", local(retentionDays={"prometheus": 1.5}), ["llm-o11y:local.retentionDays.prometheus", "valid integer"]),
    ("retention empty", local(retentionDays=None), ["llm-o11y:local.retentionDays: must be a mapping of settings"]),
    ("JSONL folder relative", local(jsonlLogDir="logs"), ["llm-o11y:local.jsonlLogDir", "absolute path"]),
    ("JSONL folder is the root", local(jsonlLogDir="/"), ["llm-o11y:local.jsonlLogDir", "not the filesystem root"]),
    ("JSONL folder resolves to the root", local(jsonlLogDir="/tmp/.."), ["llm-o11y:local.jsonlLogDir", "not the filesystem root"]),
    ("JSONL folder with a colon", local(jsonlLogDir="/tmp:/etc"), ["llm-o11y:local.jsonlLogDir", "must not contain ':'"]),
    ("JSONL folder missing", local(jsonlLogDir="/nonexistent/llm-logs"), ["llm-o11y:local.jsonlLogDir", "existing directory"]),
    ("JSONL folder a number", local(jsonlLogDir=5), ["llm-o11y:local.jsonlLogDir", "valid string"]),
    ("admin user with a space", local(grafanaAdminUser="a b"), ["llm-o11y:local.grafanaAdminUser", "letters, digits"]),
    ("admin user empty", local(grafanaAdminUser=""), ["llm-o11y:local.grafanaAdminUser", "1 to 64"]),
    ("admin user too long", local(grafanaAdminUser="a" * 65), ["llm-o11y:local.grafanaAdminUser", "1 to 64"]),
    ("admin password in plain text", config(grafanaAdminPassword="a-long-enough-password"), ["llm-o11y:grafanaAdminPassword", "must be stored as a secret", "pulumi config set --secret"]),
    # cloud
    ("cloud without its settings", {"config": {"llm-o11y:target": "cloud", "llm-o11y:cloudAccessPolicyToken": SECRET}}, ["llm-o11y:cloud", "required when target is 'cloud'"]),
    ("cloud token in plain text", {"config": {"llm-o11y:target": "cloud", "llm-o11y:cloud": CLOUD_OK, "llm-o11y:cloudAccessPolicyToken": "glc_abc"}}, ["llm-o11y:cloudAccessPolicyToken", "must be stored as a secret"]),
    ("cloud unknown region", cloud(create={"slug": "acmellm", "region": "xx"}), ["llm-o11y:cloud.create.region", "Grafana Cloud region", "prod-us-east-0", "'xx'"]),
    ("cloud region in words", cloud(create={"slug": "acmellm", "region": "US East"}), ["llm-o11y:cloud.create.region", "Grafana Cloud region"]),
    ("cloud cluster in an unknown direction", cloud(create={"slug": "acmellm", "region": "prod-us-up-0"}), ["llm-o11y:cloud.create.region", "Grafana Cloud region"]),
    ("cloud slug with capitals", cloud(create={"slug": "My Stack", "region": "us"}), ["llm-o11y:cloud.create.slug", "lowercase letters and digits"]),
    ("cloud slug too long", cloud(create={"slug": "a" * 30, "region": "us"}), ["llm-o11y:cloud.create.slug", "2 to 29"]),
    ("cloud organization with punctuation", cloud(organization="Acme!"), ["llm-o11y:cloud.organization", "organization slug"]),
    ("cloud create and adopt", cloud(adopt={"slug": "other"}), ["llm-o11y:cloud", "exactly one of `create`"]),
    ("cloud create without region", cloud(create={"slug": "acmellm"}), ["llm-o11y:cloud.create.region", "Field required"]),
    ("cloud delete protection as text", cloud(deleteProtection="yes"), ["llm-o11y:cloud.deleteProtection", "valid boolean"]),
    ("cloud as a list", config(target="cloud", cloud=["acme"]), ["llm-o11y:cloud: must be a mapping of settings"]),
    # alerting
    ("alerting as text", config(alerting="on"), ["llm-o11y:alerting: must be a mapping of settings"]),
    ("alerting unknown key", config(alerting={"receiver": []}), ["llm-o11y:alerting.receiver: unknown setting", "allowed here:", "receivers"]),
    ("budget infinite", thresholds(dailyBudgetUsd=float("inf")), ["llm-o11y:alerting.thresholds.dailyBudgetUsd", "finite number"]),
    ("budget minus infinity", thresholds(monthlyBudgetUsd=float("-inf")), ["llm-o11y:alerting.thresholds.monthlyBudgetUsd", "finite number"]),
    ("budget not a number", thresholds(burnRateUsdPerHour=float("nan")), ["llm-o11y:alerting.thresholds.burnRateUsdPerHour", "finite number"]),
    ("budget zero", thresholds(dailyBudgetUsd=0), ["llm-o11y:alerting.thresholds.dailyBudgetUsd", "greater than 0"]),
    ("budget negative", thresholds(sessionCostUsd=-5), ["llm-o11y:alerting.thresholds.sessionCostUsd", "greater than 0"]),
    ("budget in words", thresholds(dailyBudgetUsd="fifty"), ["llm-o11y:alerting.thresholds.dailyBudgetUsd", "valid number"]),
    ("budget a boolean", thresholds(dailyBudgetUsd=True), ["llm-o11y:alerting.thresholds.dailyBudgetUsd", "valid number"]),
    ("monthly budget below daily", thresholds(dailyBudgetUsd=50, monthlyBudgetUsd=40), ["llm-o11y:alerting.thresholds", "monthlyBudgetUsd (40) must not be below dailyBudgetUsd (50)"]),
    ("anomaly factor of one", thresholds(anomalyFactor=1), ["llm-o11y:alerting.thresholds.anomalyFactor", "greater than 1"]),
    ("percent over 100", thresholds(errorRateCriticalPercent=150), ["llm-o11y:alerting.thresholds.errorRateCriticalPercent", "less than or equal to 100"]),
    ("warning above critical", thresholds(errorRateWarningPercent=20), ["llm-o11y:alerting.thresholds", "errorRateWarningPercent (20) must be below errorRateCriticalPercent (10)"]),
    ("no-traffic window too short", thresholds(noTrafficMinutes=2), ["llm-o11y:alerting.thresholds.noTrafficMinutes", "greater than or equal to 5"]),
    ("no-traffic window a fraction", thresholds(noTrafficMinutes=10.5), ["llm-o11y:alerting.thresholds.noTrafficMinutes", "valid integer"]),
    ("requests per hour zero", thresholds(userRequestsPerHour=0), ["llm-o11y:alerting.thresholds.userRequestsPerHour", "greater than or equal to 1"]),
    ("unknown threshold", thresholds(dailyBudget=50), ["llm-o11y:alerting.thresholds.dailyBudget: unknown setting", "dailyBudgetUsd"]),
    ("thresholds as a list", config(alerting={"thresholds": [50]}), ["llm-o11y:alerting.thresholds: must be a mapping of settings"]),
    ("team with a space", config(alerting={"team": "llm team"}), ["llm-o11y:alerting.team", "letters, digits"]),
    ("runbook over ftp", config(alerting={"runbookBaseUrl": "ftp://docs.example.com"}), ["llm-o11y:alerting.runbookBaseUrl", "an http(s) URL, or docs/runbooks.md"]),
    ("group wait in words", config(alerting={"notifications": {"groupWait": "5 minutes"}}), ["llm-o11y:alerting.notifications.groupWait", "duration such as 30s"]),
    ("repeat interval unit unknown", config(alerting={"notifications": {"repeatInterval": {"critical": "1x"}}}), ["llm-o11y:alerting.notifications.repeatInterval.critical", "duration"]),
    ("repeat shorter than group", config(alerting={"notifications": {"groupInterval": "2h"}}), ["llm-o11y:alerting.notifications", "repeatInterval.critical (1h) must not be shorter than groupInterval (2h)"]),
    ("receivers as a mapping", config(alerting={"receivers": {"oncall": {}}}), ["llm-o11y:alerting.receivers", "valid list"]),
    ("receiver as text", config(alerting={"receivers": ["oncall"]}), ["llm-o11y:alerting.receivers[0]: must be a mapping of settings"]),
    ("receiver without a name", config(alerting={"receivers": [{"email": {"addresses": ["a@b.co"]}}]}), ["llm-o11y:alerting.receivers[0].name", "Field required"]),
    ("receiver name with a slash", config(alerting={"receivers": [{"name": "on/call", "email": {"addresses": ["a@b.co"]}}]}), ["llm-o11y:alerting.receivers[0].name", "letters, digits, spaces"]),
    ("receiver names clash", config(alerting={"receivers": [{"name": "On Call", "email": {"addresses": ["a@b.co"]}}, {"name": "on-call", "email": {"addresses": ["c@d.co"]}}]}), ["llm-o11y:alerting", "receiver names must be unique"]),
    ("receiver of no kind", receiver(), ["llm-o11y:alerting.receivers[0]", "exactly one of email, slack or webhook"]),
    ("receiver of two kinds", receiver(email={"addresses": ["a@b.co"]}, slack={"url": SECRET}), ["llm-o11y:alerting.receivers[0]", "exactly one of email, slack or webhook"]),
    ("severity unknown", receiver(severities=["fatal"], email={"addresses": ["a@b.co"]}), ["llm-o11y:alerting.receivers[0].severities[0]", "'critical', 'warning' or 'info'"]),
    ("severities empty", receiver(severities=[], email={"addresses": ["a@b.co"]}), ["llm-o11y:alerting.receivers[0].severities", "at least 1"]),
    ("email without addresses", receiver(email={"addresses": []}), ["llm-o11y:alerting.receivers[0].email.addresses", "at least 1"]),
    ("email address without a domain", receiver(email={"addresses": ["oncall"]}), ["llm-o11y:alerting.receivers[0].email.addresses[0]", "an email address"]),
    ("slack URL in plain text", receiver(slack={"url": "https://hooks.slack.com/services/T/B/x"}), ["llm-o11y:alerting.receivers[0].slack.url", "must be stored as a secret"]),
    ("slack mention unknown", receiver(slack={"url": SECRET, "mentionChannel": "everyone"}), ["llm-o11y:alerting.receivers[0].slack.mentionChannel", "'here' or 'channel'"]),
    ("webhook URL with a password", receiver(webhook={"url": "https://user:pass@hooks.example.com/x"}), ["llm-o11y:alerting.receivers[0].webhook.url", "carries credentials", "must be stored as a secret"]),
    ("webhook URL with a token", receiver(webhook={"url": "https://hooks.example.com/x?token=abc"}), ["llm-o11y:alerting.receivers[0].webhook.url", "carries credentials"]),
    ("webhook URL not a URL", receiver(webhook={"url": "hooks.example.com"}), ["llm-o11y:alerting.receivers[0].webhook.url", "an http(s) URL"]),
    ("webhook URL a number", receiver(webhook={"url": 5}), ["llm-o11y:alerting.receivers[0].webhook.url", "an http(s) URL"]),
    ("webhook user without password", webhook(basicAuthUser="grafana"), ["llm-o11y:alerting.receivers[0].webhook", "set both basicAuthUser and basicAuthPassword"]),
    ("webhook credentials in plain text", webhook(authorizationCredentials="token"), ["llm-o11y:alerting.receivers[0].webhook.authorizationCredentials", "must be stored as a secret"]),
    ("webhook scheme with a space", webhook(authorizationScheme="Bearer token", authorizationCredentials=SECRET), ["llm-o11y:alerting.receivers[0].webhook.authorizationScheme", "such as Bearer"]),
]  # fmt: skip


def _write(path: Path, content: str | bytes | dict[str, Any]) -> None:
    if isinstance(content, dict):
        content = yaml.safe_dump(content, sort_keys=False)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)


def test_there_are_enough_cases() -> None:
    assert len(MALFORMED) >= 80
    assert len({case for case, _, _ in MALFORMED}) == len(MALFORMED)


@pytest.mark.parametrize(
    ("content", "expected"), [pytest.param(c, e, id=case) for case, c, e in MALFORMED]
)
def test_a_malformed_stack_file_is_refused_before_any_resource(
    tmp_path: Path,
    content: str | bytes | dict[str, Any],
    expected: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / f"Pulumi.{STACK}.yaml"
    _write(path, content)
    declared: list[DeclaredResource] = []
    with pytest.raises(SettingsError) as refused:
        synth.synth(STACK, path, declared)
    assert declared == [], f"declared before failing: {[r.name for r in declared]}"
    message = str(refused.value)
    assert f"Pulumi.{STACK}.yaml" in message
    for fragment in expected:
        assert fragment in message
    # Nothing in the message names a Python class or shows a regular expression.
    for leak in ("instance of", "Settings", "pattern", "[A-Z", "\\S", "Traceback"):
        assert leak not in message

    assert synth.main([STACK, "--stack-file", str(path)]) == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err.startswith("synth: ")
    assert "Traceback" not in printed.err


def test_the_program_itself_checks_its_stack_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under `pulumi up` there is no synth: the program reads stacks/Pulumi.<stack>.yaml itself."""
    from components import stack_file
    from tests.support import program

    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / f"Pulumi.{STACK}.yaml").write_text("confg:\n  llm-o11y:target: cloud\n")
    monkeypatch.setattr(stack_file, "STACKS_DIR", stacks)
    declared: list[DeclaredResource] = []
    with pytest.raises(SettingsError, match=r"confg: unknown top-level key"):
        program.run({}, stack=STACK, recorded=declared)
    assert declared == []
    (stacks / f"Pulumi.{STACK}.yaml").write_text("config:\n  llm-o11y:target: local\n")
    assert program.run({}, stack=STACK).resources
