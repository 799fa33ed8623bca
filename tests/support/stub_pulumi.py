#!/usr/bin/env python3
"""A stand-in for the Pulumi CLI that writes stack files the way the real one does.

The real CLI (FIELD-NOTES, "Found since the first release"): creating a stack with the
passphrase provider, or loading a stack's config without an `encryptionsalt`, writes a new salt
into the stack file it reads (`--config-file`, else `stacks/Pulumi.<stack>.yaml`), re-marshalling
the whole file (comments go). This stand-in does that for every command, `stack output`
included (the worst case); it keeps stacks and outputs in $STUB_PULUMI_STATE and logs each call.
"""

import json
import os
import sys
from pathlib import Path

STATE = Path(os.environ["STUB_PULUMI_STATE"])
OUTPUTS = {
    "grafanaUrl": "http://127.0.0.1:3000",
    "grafanaAdminUser": "admin",
    "grafanaAdminPassword": "stub-admin-password",
    "claudeCodeEnv": "export CLAUDE_CODE_ENABLE_TELEMETRY=1\n",
}


def option(args: list[str], *names: str) -> str | None:
    for name in names:
        if name in args:
            return args[args.index(name) + 1]
    return None


def write_salt(args: list[str], stack: str) -> None:
    path = Path(option(args, "--config-file") or f"stacks/Pulumi.{stack}.yaml")
    text = path.read_text() if path.exists() else ""
    if "encryptionsalt:" in text:
        return
    kept = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    path.write_text("\n".join(["encryptionsalt: v1:c3R1Yg==:v1:stub:stub", *kept]) + "\n")


def main() -> int:
    args = sys.argv[1:]
    STATE.mkdir(parents=True, exist_ok=True)
    with (STATE / "calls").open("a") as log:
        log.write(" ".join(args) + "\n")
    words = [a for a in args if not a.startswith("-")]
    stack = option(args, "--stack", "-s") or (
        words[2] if words[:2] in (["stack", "init"], ["stack", "select"]) else None
    )
    assert stack, f"stub pulumi: no stack in {args}"
    record = STATE / f"{stack}.json"
    if words[:2] == ["stack", "init"]:
        record.write_text("{}")
        write_salt(args, stack)
        print(f"Created stack '{stack}'")
        return 0
    if not record.exists():
        print(f"error: no stack named '{stack}' found", file=sys.stderr)
        return 255
    write_salt(args, stack)
    if words[:2] == ["stack", "output"]:
        outputs = json.loads(record.read_text())
        key = words[-1]
        if key not in outputs:
            print(f"error: current stack does not have output property '{key}'", file=sys.stderr)
            return 255
        sys.stdout.write(outputs[key] if key == "claudeCodeEnv" else outputs[key] + "\n")
        return 0
    if words[:1] == ["up"]:
        record.write_text(json.dumps(OUTPUTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
