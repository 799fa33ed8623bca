"""Run the Pulumi CLI on this machine's copy of a stack file, so the tracked one never changes.

    python -m tools.stack_file local -- pulumi up --stack local

The passphrase secrets provider keeps its `encryptionsalt` in the stack file, and the CLI
writes it there (reflowing the file's comments) the first time a stack is created or a secret
is set; that salt belongs to this machine's passphrase. So the CLI reads and writes
`.pulumi/stacks/Pulumi.<stack>.yaml` (gitignored) instead: the tracked settings of
`stacks/Pulumi.<stack>.yaml` plus what belongs to this machine, which is
- the secrets provider's state (`encryptionsalt`, `secretsprovider`, `encryptedkey`), and
- config set into the copy (`make config ARGS='set --secret grafanaAdminPassword'`), kept across
  edits of the tracked file and taking precedence over it.
Should a command write into the tracked file anyway (`stack init` does), its per-machine keys
move to the copy and the tracked file gets its bytes back.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tools.arguments import OneLineParser

MACHINE_DIR = Path(".pulumi") / "stacks"
PER_MACHINE_KEYS = ("encryptionsalt", "secretsprovider", "encryptedkey")
# The CLI commands that read a stack's config, and so take --config-file.
READS_CONFIG = {"up", "preview", "destroy", "refresh", "config", "import", "watch"}


class StackFileError(Exception):
    """The stack file is missing or not a mapping."""


def _load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(document, dict):
        raise StackFileError(f"{path} is not a YAML mapping")
    return document


def machine_copy(root: Path, stack: str) -> Path:
    return root / MACHINE_DIR / f"Pulumi.{stack}.yaml"


def _base(root: Path, stack: str) -> Path:
    """The tracked file as of the last sync: tells config set on this machine from settings."""
    return root / MACHINE_DIR / f"Pulumi.{stack}.base.yaml"


def per_machine(copy: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """What the copy holds beyond the tracked file it was made from."""
    kept: dict[str, Any] = {k: copy[k] for k in PER_MACHINE_KEYS if k in copy}
    tracked_config = base.get("config") or {}
    config = {
        key: value
        for key, value in (copy.get("config") or {}).items()
        if tracked_config.get(key) != value
    }
    if config:
        kept["config"] = config
    return kept


def sync(root: Path, stack: str) -> Path:
    """Write the machine copy: the tracked settings plus what belongs to this machine."""
    tracked_path = root / "stacks" / f"Pulumi.{stack}.yaml"
    if not tracked_path.is_file():
        raise StackFileError(
            f"no stack file {tracked_path.relative_to(root)}: create it first "
            "(a local stack: copy stacks/Pulumi.local.yaml and give it its own ports)"
        )
    copy_path, base_path = machine_copy(root, stack), _base(root, stack)
    kept = per_machine(_load(copy_path), _load(base_path))
    tracked_text = tracked_path.read_text(encoding="utf-8")
    document = _load(tracked_path)
    config = {**(document.get("config") or {}), **kept.pop("config", {})}
    merged = {**{k: v for k, v in kept.items() if k not in document}, **document}
    if config:
        merged["config"] = config
    copy_path.parent.mkdir(parents=True, exist_ok=True)
    heading = (
        f"# This machine's copy of stacks/Pulumi.{stack}.yaml, written by tools/stack_file.py:\n"
        "# edit the tracked file instead; config set here with --config-file stays here.\n"
    )
    copy_path.write_text(heading + yaml.safe_dump(merged, sort_keys=False), encoding="utf-8")
    base_path.write_text(tracked_text, encoding="utf-8")
    return copy_path


def with_config_file(command: list[str], copy: Path) -> list[str]:
    """`pulumi <sub> ...` with `--config-file <copy>` where the subcommand reads config."""
    if len(command) >= 2 and Path(command[0]).name == "pulumi" and command[1] in READS_CONFIG:
        return [*command[:2], "--config-file", str(copy), *command[2:]]
    return command


def run(root: Path, stack: str, command: list[str]) -> int:
    tracked_path = root / "stacks" / f"Pulumi.{stack}.yaml"
    copy_path = sync(root, stack)
    before = tracked_path.read_bytes()
    status = subprocess.call(with_config_file(command, copy_path), cwd=root)
    if tracked_path.read_bytes() != before:
        written = _load(tracked_path)
        moved = {k: written[k] for k in PER_MACHINE_KEYS if k in written}
        tracked_path.write_bytes(before)
        copy = _load(copy_path)
        if any(k not in copy for k in moved):
            copy.update({k: v for k, v in moved.items() if k not in copy})
            copy_path.write_text(yaml.safe_dump(copy, sort_keys=False), encoding="utf-8")
        print(
            f"{Path(command[0]).name} wrote to {tracked_path.relative_to(root)}; kept it "
            f"unchanged and this machine's {', '.join(moved) or 'changes'} in "
            f"{copy_path.relative_to(root)}",
            file=sys.stderr,
        )
    return status


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(
        prog="python -m tools.stack_file",
        description="Run a Pulumi CLI command on this machine's copy of stacks/Pulumi.<stack>.yaml "
        "(.pulumi/stacks/, gitignored), keeping the tracked stack file byte-identical.",
    )
    parser.add_argument("stack", help="stack name, e.g. local")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- pulumi <args>")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command after --, e.g. -- pulumi preview --stack local")
    try:
        return run(Path.cwd(), args.stack, command)
    except StackFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
