"""Where each side's plans come from: a git ref, the working tree, or offline plan files."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import yaml

from tools.diff.model import Side, StackPlan

REPO_ROOT = Path(__file__).resolve().parents[2]
STACKS_DIR = "stacks"
MAIN_BRANCHES = ("main", "origin/main")
SYNTH_TIMEOUT = 300

# Runs in a checkout: that checkout's own tools.synth plans every stack; one process per side,
# so the program's imports are paid once. A failing stack reports its error and the rest go on.
SYNTH_ALL = """
import json, sys
from tools.synth import synth
result = {}
for stack in sys.argv[1:]:
    try:
        result[stack] = {"plan": json.loads(synth(stack).as_json())}
    except Exception as exc:
        result[stack] = {"error": f"{type(exc).__name__}: {exc}"}
json.dump(result, sys.stdout)
"""


class SourceError(Exception):
    """A ref, file or checkout that cannot give a plan."""


def git(*args: str, cwd: Path = REPO_ROOT) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SourceError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def resolve(ref: str) -> str:
    try:
        return git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except SourceError:
        raise SourceError(f"{ref!r} is not a commit in {REPO_ROOT}") from None


def default_base() -> str:
    """The merge base of HEAD with main (or origin/main)."""
    for branch in MAIN_BRANCHES:
        try:
            return git("merge-base", "HEAD", resolve(branch))
        except SourceError:
            continue
    raise SourceError("no main or origin/main branch to diff against: give a base ref")


def extract(commit: str, into: Path) -> None:
    """The tree of `commit` into `into` (git archive: nothing in .git changes)."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=REPO_ROOT, capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise SourceError(f"git archive {commit}: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")


def stack_names(root: Path) -> list[str]:
    return sorted(
        p.name[len("Pulumi.") : -len(".yaml")] for p in (root / STACKS_DIR).glob("Pulumi.*.yaml")
    )


def stack_config(root: Path, stack: str) -> dict[str, Any]:
    path = root / STACKS_DIR / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return document.get("config") or {} if isinstance(document, dict) else {}


def _child_env() -> dict[str, str]:
    """The checkout's own modules come first: no PYTHONPATH from the caller."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def start_synth(root: Path, stacks: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SYNTH_ALL, *stacks],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
    )


def finish_synth(process: subprocess.Popen[str], root: Path, label: str) -> Side:
    try:
        out, err = process.communicate(timeout=SYNTH_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise SourceError(f"planning {label} took over {SYNTH_TIMEOUT} s") from None
    if process.returncode != 0:
        raise SourceError(f"planning {label} failed:\n{err.strip()[-2000:]}")
    side: Side = {}
    for stack, result in json.loads(out).items():
        config = stack_config(root, stack)
        if "error" in result:
            side[stack] = StackPlan(stack=stack, config=config, error=result["error"])
        else:
            side[stack] = StackPlan.from_plan(result["plan"], config)
    return side


def plan_refs(base: str, head: str | None) -> tuple[Side, Side]:
    """Plans of every stack at `base` and at `head` (None: the working tree), in parallel."""
    with tempfile.TemporaryDirectory(prefix="llm-o11y-diff-") as tmp:
        roots: list[tuple[Path, str]] = []
        for name, ref in (("base", base), ("head", head)):
            root = REPO_ROOT
            if ref is not None:
                root = Path(tmp) / name
                root.mkdir()
                extract(resolve(ref), root)
            if not (root / "tools" / "synth.py").is_file():
                raise SourceError(f"{ref or 'the working tree'} has no tools/synth.py to plan it")
            roots.append((root, ref or "the working tree"))
        processes = [start_synth(root, stack_names(root)) for root, _ in roots]
        try:
            base_side, head_side = (
                finish_synth(process, root, label)
                for process, (root, label) in zip(processes, roots, strict=True)
            )
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.communicate()
    return base_side, head_side


def load_plans(path: Path) -> Side:
    """Plan files: one tools.synth JSON file, or a folder of <stack>.json files."""
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files:
        raise SourceError(f"{path}: no *.json plan files")
    side: Side = {}
    for file in files:
        try:
            document = json.loads(file.read_text(encoding="utf-8"))
            plan = StackPlan.from_plan(document)
        except (OSError, ValueError) as exc:
            raise SourceError(f"{file}: {exc}") from None
        name = plan.stack or file.stem
        side[name] = StackPlan(name, plan.resources, plan.outputs, plan.config)
    return side
