"""Where each side's plans come from: a git ref, the working tree, or offline plan files."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from tools.diff.model import Side, StackPlan

REPO_ROOT = Path(__file__).resolve().parents[2]
STACKS_DIR = "stacks"
MAIN_BRANCHES = ("main", "origin/main")
SYNTH_TIMEOUT = 300
CACHE_DIR = REPO_ROOT / ".cache" / "diff"

# Plans each checkout with that checkout's own tools.synth, one checkout after the other in one
# process: the third-party imports (Pulumi, the providers' SDKs), most of the cost, are paid
# once. Before each checkout, every module loaded from the previous one is dropped, so names
# like `components` resolve in the new checkout. A failing stack reports its error; the rest go on.
SYNTH_ALL = """
import importlib, json, sys
jobs, results, previous = json.loads(sys.argv[1]), [], []
for job in jobs:
    for name, module in list(sys.modules.items()):
        places = [getattr(module, "__file__", None), *(getattr(module, "__path__", None) or [])]
        if any(str(p or "").startswith(old) for p in places for old in previous):
            del sys.modules[name]
    root = job["root"]
    sys.path.insert(0, root)
    importlib.invalidate_caches()
    plans = {}
    try:
        from tools.synth import synth
    except Exception as exc:
        synth, failure = None, f"tools.synth: {type(exc).__name__}: {exc}"
    for stack in job["stacks"]:
        try:
            if synth is None:
                raise RuntimeError(failure)
            plans[stack] = {"plan": json.loads(synth(stack).as_json())}
        except Exception as exc:
            plans[stack] = {"error": f"{type(exc).__name__}: {exc}"}
    sys.path.remove(root)
    previous.append(root.rstrip("/") + "/")
    results.append(plans)
json.dump(results, sys.stdout)
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
    """Only the checkouts' own modules: no PYTHONPATH from the caller."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def plan_roots(roots: list[tuple[Path, str]]) -> list[Side]:
    """The plans of every stack of each checkout, as (root, label) pairs, in one process."""
    if not roots:
        return []
    for root, label in roots:
        if not (root / "tools" / "synth.py").is_file():
            raise SourceError(f"{label} has no tools/synth.py to plan it with")
    jobs = [{"root": str(root), "stacks": stack_names(root)} for root, _ in roots]
    with tempfile.TemporaryDirectory(prefix="llm-o11y-diff-cwd-") as neutral:
        try:
            done = subprocess.run(
                [sys.executable, "-c", SYNTH_ALL, json.dumps(jobs)],
                cwd=neutral,  # nothing importable by accident from the current folder
                capture_output=True,
                text=True,
                env=_child_env(),
                timeout=SYNTH_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SourceError(f"planning took over {SYNTH_TIMEOUT} s") from None
    if done.returncode != 0:
        labels = ", ".join(label for _, label in roots)
        raise SourceError(f"planning {labels} failed:\n{done.stderr.strip()[-2000:]}")
    sides = []
    for (root, _), results in zip(roots, json.loads(done.stdout), strict=True):
        side: Side = {}
        for stack, result in results.items():
            config = stack_config(root, stack)
            if "error" in result:
                side[stack] = StackPlan(stack=stack, config=config, error=result["error"])
            else:
                side[stack] = StackPlan.from_plan(result["plan"], config)
        sides.append(side)
    return sides


def environment_fingerprint() -> str:
    """The interpreter and installed packages: a plan depends on them as much as on the code."""
    packages = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions())
    return hashlib.sha256("\n".join([sys.version, *packages]).encode()).hexdigest()


def tree(ref: str) -> str:
    return git("rev-parse", f"{resolve(ref)}^{{tree}}")


def cache_path(commit: str) -> Path:
    """Plans of a commit, keyed by its tree: the same files give the same plan."""
    key = hashlib.sha256(f"{tree(commit)}\n{environment_fingerprint()}".encode()).hexdigest()[:32]
    return CACHE_DIR / f"{key}.json"


def read_cached(path: Path) -> Side | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {stack: _from_cached(stack, entry) for stack, entry in document.items()}


def _from_cached(stack: str, entry: dict[str, Any]) -> StackPlan:
    if entry.get("error"):
        return StackPlan(stack=stack, config=entry.get("config"), error=entry["error"])
    return StackPlan.from_plan(entry["plan"], entry.get("config"))


def write_cached(path: Path, side: Side) -> None:
    document = {
        stack: {
            "plan": {"stack": stack, "resources": plan.resources, "outputs": plan.outputs},
            "config": plan.config,
            "error": plan.error,
        }
        for stack, plan in side.items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(document, sort_keys=True), encoding="utf-8")
    partial.replace(path)


def plan_refs(base: str, head: str | None, use_cache: bool = True) -> tuple[Side, Side]:
    """Plans of every stack at `base` and at `head` (None: the working tree).

    A commit planned before is read from .cache/diff; the working tree is always planned.
    """
    sides: dict[str, Side] = {}
    refs = [("base", base), ("head", head)]
    same_tree = head is not None and tree(base) == tree(head)
    if same_tree:
        refs = refs[:1]  # the same files give the same plans
    with tempfile.TemporaryDirectory(prefix="llm-o11y-diff-") as tmp:
        todo: list[tuple[str, Path, str, Path | None]] = []
        for name, ref in refs:
            if ref is None:
                todo.append((name, REPO_ROOT, "the working tree", None))
                continue
            commit = resolve(ref)
            cached_at = cache_path(commit) if use_cache else None
            cached = read_cached(cached_at) if cached_at else None
            if cached is not None:
                sides[name] = cached
                continue
            root = Path(tmp) / name
            root.mkdir()
            extract(commit, root)
            todo.append((name, root, ref, cached_at))
        planned = plan_roots([(root, label) for _, root, label, _ in todo])
        for (name, _, _, cached_at), side in zip(todo, planned, strict=True):
            sides[name] = side
            if cached_at is not None:
                write_cached(cached_at, side)
    return sides["base"], sides["base" if same_tree else "head"]


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
