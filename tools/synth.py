"""Offline plan: run the program under Pulumi mocks and print every declared resource as JSON.

    python -m tools.synth local            # stacks/Pulumi.local.yaml
    python -m tools.synth prod --out plan.json

Needs no Pulumi CLI, Docker or network. Secret values print as "[secret]": they are found by
Pulumi's own secret marker on the wire, not by name, so anything the program forgets to mark
secret shows up in plain text here. Secret config values are never decrypted: the plan uses a
placeholder for each one.
"""

from __future__ import annotations

import asyncio
import json
import runpy
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.arguments import OneLineParser, output_file

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT = "llm-o11y"
SECRET_PLACEHOLDER = "synth-placeholder-secret"

# Pulumi's wire signatures (sdk/go/common/resource/sig).
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class StackConfigError(Exception):
    """The stack file is missing or not a Pulumi stack config."""


@dataclass
class DeclaredResource:
    type: str
    name: str
    parent: str | None
    provider: str | None
    inputs: dict[str, Any]
    options: dict[str, Any]
    raw_inputs: dict[str, Any] = field(repr=False, default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "provider": self.provider,
            "options": self.options,
            "inputs": self.inputs,
        }


@dataclass
class Plan:
    stack: str
    resources: list[DeclaredResource]
    outputs: dict[str, Any]
    # The stack outputs' values with secrets in clear, for tests that model a user reading one.
    revealed: dict[str, Any] = field(repr=False, default_factory=dict)

    def of_type(self, type_token: str) -> list[DeclaredResource]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str) -> DeclaredResource:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]

    def as_json(self) -> str:
        document = {
            "stack": self.stack,
            "resources": [r.as_json() for r in self.resources],
            "outputs": self.outputs,
        }
        return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _name_of_urn(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _is_stack_urn(urn: str) -> bool:
    return urn.split("::")[2].split("$")[-1] == "pulumi:pulumi:Stack"


def scrub(value: Any) -> Any:
    """Wire value -> plain JSON: secrets become "[secret]", references the resource's name."""
    if isinstance(value, Mapping):
        if value.get(_SIG) == _SECRET_SIG:
            return "[secret]"
        if value.get(_SIG) == _RESOURCE_SIG:
            return f"[resource {_name_of_urn(str(value.get('urn', '')))}]"
        return {k: scrub(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == _UNKNOWN:
        return "[unknown]"
    return value


def contains_secret(value: Any) -> bool:
    """True when Pulumi marks `value`, or anything inside it, as secret on the wire."""
    if isinstance(value, Mapping):
        return value.get(_SIG) == _SECRET_SIG or any(contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secret(v) for v in value)
    return False


# A Grafana Cloud stack ID is a number; the program turns it into an int for the provider.
MOCK_STACK_ID = "424242"
# Where a lookup says an adopted stack lives (the Cloud API reports cluster slugs).
MOCK_ADOPTED_REGION = "prod-eu-west-2"


def mock_stack(slug: str, region: str) -> dict[str, Any]:
    """The endpoints Grafana Cloud reports for a stack, in the provider's wire names."""
    prometheus = f"https://prometheus-{region}.grafana.net"
    return {
        "slug": slug,
        "regionSlug": region,
        "url": f"https://{slug}.grafana.net",
        "prometheusUrl": prometheus,
        "prometheusRemoteEndpoint": f"{prometheus}/api/prom",
        "prometheusRemoteWriteEndpoint": f"{prometheus}/api/prom/push",
        "prometheusUserId": 1100001,
        "logsUrl": f"https://logs-{region}.grafana.net",
        "logsUserId": 1100002,
        "tracesUrl": f"https://tempo-{region}.grafana.net",
        "tracesUserId": 1100003,
        "otlpUrl": f"https://otlp-gateway-{region}.grafana.net/otlp",
    }


def mock_token(type_token: str, name: str) -> str:
    """A fake token, distinctive enough that a test can prove it never prints."""
    prefix = "glsa" if type_token.endswith("StackServiceAccountToken") else "glc"
    return f"{prefix}_mock_token_{name}"


def mock_id(type_token: str, name: str) -> str:
    if type_token == "grafana:cloud/stack:Stack":
        return MOCK_STACK_ID
    return f"{name}-id"


def computed_outputs(type_token: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """What the real providers would compute, for the outputs the program reads."""
    outputs = dict(inputs)
    if type_token == "docker:index/remoteImage:RemoteImage":
        outputs["imageId"] = f"{inputs['name']}@sha256:mock"
    elif type_token == "random:index/randomPassword:RandomPassword":
        outputs["result"] = "mock-random-password"
    elif type_token == "grafana:cloud/stack:Stack":
        outputs.update(mock_stack(inputs["slug"], inputs.get("regionSlug", "us")))
    elif type_token == "grafana:cloud/stackServiceAccountToken:StackServiceAccountToken":
        outputs["key"] = mock_token(type_token, name)
    elif type_token == "grafana:cloud/accessPolicy:AccessPolicy":
        outputs["policyId"] = f"{name}-policy-id"
    elif type_token == "grafana:cloud/accessPolicyToken:AccessPolicyToken":
        outputs["token"] = mock_token(type_token, name)
    return outputs


def lookup_result(token: str, args: dict[str, Any]) -> dict[str, Any]:
    """What a provider function (a lookup) would return."""
    if token == "grafana:cloud/getStack:getStack":
        return {"id": MOCK_STACK_ID, **mock_stack(args["slug"], MOCK_ADOPTED_REGION)}
    raise NotImplementedError(f"no mock for function {token}")


# (type, logical name, inputs, outputs the mocks computed) -> the outputs to hand back; lets a
# test play the engine that keeps an unchanged resource's outputs across runs.
OutputsHook = Callable[[str, str, dict[str, Any], dict[str, Any]], dict[str, Any]]


def _build_mocks(recorded: list[DeclaredResource], outputs_hook: OutputsHook | None = None) -> Any:
    import pulumi
    from google.protobuf import json_format
    from pulumi.runtime.mocks import MockMonitor

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
            outputs = computed_outputs(args.typ, args.name, args.inputs)
            if outputs_hook is not None:
                outputs = outputs_hook(args.typ, args.name, dict(args.inputs), outputs)
            return mock_id(args.typ, args.name), outputs

        def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
            # A lookup is part of the plan too: it shows up under its function token.
            recorded.append(
                DeclaredResource(
                    type=args.token,
                    name=args.token.rsplit(":", 1)[-1],
                    parent=None,
                    provider=args.provider.split("::")[-2] if args.provider else None,
                    inputs=scrub(args.args),
                    options={},
                    raw_inputs=dict(args.args),
                )
            )
            return lookup_result(args.token, args.args)

    class RecordingMonitor(MockMonitor):
        """Records each registration as the engine would receive it, options included."""

        def RegisterResource(self, request: Any) -> Any:
            if request.type != "pulumi:pulumi:Stack":
                raw = json_format.MessageToDict(request.object)
                parent = None
                if request.parent and not _is_stack_urn(request.parent):
                    parent = _name_of_urn(request.parent)
                provider = request.provider.split("::")[-2] if request.provider else None
                options = {
                    "protect": request.protect,
                    "deleteBeforeReplace": request.deleteBeforeReplace,
                    "retainOnDelete": request.retainOnDelete,
                    "dependsOn": sorted(_name_of_urn(u) for u in request.dependencies),
                    "ignoreChanges": sorted(request.ignoreChanges),
                    "additionalSecretOutputs": sorted(request.additionalSecretOutputs),
                }
                recorded.append(
                    DeclaredResource(
                        type=request.type,
                        name=request.name,
                        parent=parent,
                        provider=provider,
                        inputs=scrub(raw),
                        options=options,
                        raw_inputs=raw,
                    )
                )
            return super().RegisterResource(request)

    mocks = Mocks()
    return mocks, RecordingMonitor(mocks)


def run_program(
    config: Mapping[str, str],
    secret_keys: list[str],
    stack: str,
    recorded: list[DeclaredResource] | None = None,
    outputs_hook: OutputsHook | None = None,
) -> Plan:
    """Run __main__.py under mocks with this config; raises what the program raises.

    `recorded` (if given) receives each declared resource as it is registered, so a caller
    can see what was declared before a failure.
    """
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import pulumi
    from pulumi.runtime import settings as runtime_settings

    recorded = [] if recorded is None else recorded
    mocks, monitor = _build_mocks(recorded, outputs_hook)
    # A fresh root Stack per run, so one process can run the program many times.
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(dict(config), list(secret_keys))

    outputs: dict[str, Any] = {}
    revealed: dict[str, Any] = {}

    def program() -> Any:
        runpy.run_path(str(REPO_ROOT / "__main__.py"), run_name="__main__")
        exported = dict(pulumi.runtime.get_root_resource().outputs)  # type: ignore[union-attr]

        async def resolve() -> None:
            for key in sorted(exported):
                output = pulumi.Output.from_input(exported[key])
                secret = await output.is_secret()
                revealed[key] = await output.future()
                outputs[key] = "[secret]" if secret else scrub(revealed[key])

        return asyncio.ensure_future(resolve())

    pulumi.runtime.test(program)()
    resources = sorted(recorded, key=lambda r: (r.type, r.name))
    return Plan(stack=stack, resources=resources, outputs=outputs, revealed=revealed)


def _config_value(value: Any) -> tuple[Any, bool]:
    """Stack-file value -> (value without secure ciphertexts, whether any part was secret)."""
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        pairs = {k: _config_value(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_config_value(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def _as_config_string(value: Any) -> str:
    """Pulumi hands structured values to programs JSON-encoded, scalars as strings."""
    if isinstance(value, Mapping | list):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def stack_config(document: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """A parsed Pulumi.<stack>.yaml -> (config as the engine passes it, secret keys)."""
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, raw in (document.get("config") or {}).items():
        full_key = key if ":" in key else f"{PROJECT}:{key}"
        value, secret = _config_value(raw)
        config[full_key] = _as_config_string(value)
        if secret:
            secret_keys.append(full_key)
    return config, sorted(secret_keys)


def load_stack_file(stack: str, path: Path | None = None) -> dict[str, Any]:
    """The checked document of stacks/Pulumi.<stack>.yaml (or of `path`)."""
    from components.stack_file import read_stack_file

    path = path or REPO_ROOT / "stacks" / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        available = sorted(
            p.name[len("Pulumi.") : -len(".yaml")]
            for p in (REPO_ROOT / "stacks").glob("Pulumi.*.yaml")
        )
        raise StackConfigError(f"no stack file {path}; stacks: {', '.join(available)}")
    return read_stack_file(path)


def stand_in_for_required_secrets(config: dict[str, str], secret_keys: list[str]) -> list[str]:
    """Placeholders for the secrets the settings need and the file leaves to each user."""
    from components.settings import required_secrets

    prefix = f"{PROJECT}:"
    values = {k.removeprefix(prefix): v for k, v in config.items() if k.startswith(prefix)}
    missing = [
        f"{prefix}{key}" for key in required_secrets(values) if f"{prefix}{key}" not in config
    ]
    for key in missing:
        config[key] = SECRET_PLACEHOLDER
        secret_keys.append(key)
    return missing


def synth(
    stack: str, path: Path | None = None, recorded: list[DeclaredResource] | None = None
) -> Plan:
    config, secret_keys = stack_config(load_stack_file(stack, path))
    for key in stand_in_for_required_secrets(config, secret_keys):
        print(
            f"synth: {key} is not in {path or f'stacks/Pulumi.{stack}.yaml'} (each user sets it "
            "with `pulumi config set --secret`); the plan uses a placeholder",
            file=sys.stderr,
        )
    return run_program(config, secret_keys, stack, recorded)


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(
        prog="python -m tools.synth",
        description="Run the Pulumi program under mocks with stacks/Pulumi.<stack>.yaml and "
        "print every declared resource (type, name, parent, provider, options, inputs) as "
        'deterministic JSON, secrets replaced by "[secret]".',
    )
    parser.add_argument("stack", help="stack name, e.g. local (reads stacks/Pulumi.<stack>.yaml)")
    parser.add_argument("--out", type=output_file, help="write the JSON here instead of stdout")
    parser.add_argument(
        "--stack-file", type=Path, help="read this file instead of stacks/Pulumi.<stack>.yaml"
    )
    args = parser.parse_args(argv)
    from components.settings import SettingsError

    try:
        plan = synth(args.stack, args.stack_file)
    except (StackConfigError, SettingsError) as exc:
        print(f"synth: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the program's own error, e.g. invalid settings
        print(f"synth: the program failed for stack {args.stack!r}:\n{exc}", file=sys.stderr)
        return 1
    text = plan.as_json()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
