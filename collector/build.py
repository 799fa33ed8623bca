"""Build the test collector that collector/builder-config.yaml describes, once per manifest content.

`python -m collector.build` installs the OpenTelemetry Collector Builder (OCB) of the manifest's
release into .cache/collector/, builds the collector into .cache/collector/otelcol-<manifest hash>/
and prints the binary's path on stdout (progress goes to stderr). When the binary for the current
manifest already exists it only prints the path: editing the manifest is what triggers a rebuild.
Needs Go on PATH and the Go module proxy; GOPATH, GOMODCACHE and GOCACHE keep their defaults.
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
MANIFEST = REPO_ROOT / "collector" / "builder-config.yaml"
CACHE_ROOT = REPO_ROOT / ".cache" / "collector"
BUILDER_MODULE = "go.opentelemetry.io/collector/cmd/builder"
CORE_MODULE_PREFIX = "go.opentelemetry.io/collector/"
MODULE_LIST_SECTIONS = (
    "receivers",
    "processors",
    "exporters",
    "extensions",
    "connectors",
    "providers",
    "converters",
)
HEARTBEAT_SECONDS = 30.0
PROGRESS_EVERY_PACKAGES = 100


class BuildError(RuntimeError):
    """A step of the build failed; the message carries the tail of the tool's output."""


def load_manifest(manifest: Path = MANIFEST) -> dict[str, Any]:
    loaded = yaml.safe_load(manifest.read_text())
    if not isinstance(loaded, dict):
        raise BuildError(f"{manifest} is not a YAML mapping")
    return loaded


def module_versions(manifest: dict[str, Any]) -> dict[str, str]:
    """Every `gomod: <module> <version>` of the manifest, as module path -> version."""
    entries: list[dict[str, Any]] = [
        entry for section in MODULE_LIST_SECTIONS for entry in manifest.get(section) or []
    ]
    if "telemetry" in manifest:
        entries.append(manifest["telemetry"])
    versions: dict[str, str] = {}
    for entry in entries:
        module, version = entry["gomod"].split()
        versions[module] = version
    return versions


def builder_version(manifest: dict[str, Any]) -> str:
    """The release of the manifest's core 0.x modules, which is also its builder's version."""
    releases = {
        version
        for module, version in module_versions(manifest).items()
        if module.startswith(CORE_MODULE_PREFIX) and version.startswith("v0.")
    }
    if len(releases) != 1:
        raise BuildError(f"core 0.x modules must share one release, found {sorted(releases)}")
    return releases.pop()


def manifest_digest(manifest: Path = MANIFEST) -> str:
    return hashlib.sha256(manifest.read_bytes()).hexdigest()[:16]


def build_dir(manifest: Path = MANIFEST) -> Path:
    return CACHE_ROOT / f"otelcol-{manifest_digest(manifest)}"


def binary_path(manifest: Path = MANIFEST) -> Path:
    """Where the collector for the manifest's current content is (or will be) built."""
    dist = load_manifest(manifest)["dist"]
    return build_dir(manifest) / dist["output_path"] / dist["name"]


def log(message: str, started: float) -> None:
    print(f"[collector {format_seconds(time.monotonic() - started)}] {message}", file=sys.stderr)


def format_seconds(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def run_streaming(
    command: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    on_line: Callable[[str], None],
    activity: str,
    started: float,
) -> None:
    """Run `command`, passing each output line to `on_line`; says it is alive when it goes quiet."""
    last_output = [time.monotonic()]
    finished = threading.Event()

    def heartbeat() -> None:
        while not finished.wait(HEARTBEAT_SECONDS):
            if time.monotonic() - last_output[0] >= HEARTBEAT_SECONDS:
                log(f"still {activity}...", started)

    tail: deque[str] = deque(maxlen=40)
    threading.Thread(target=heartbeat, daemon=True).start()
    try:
        with subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as process:
            assert process.stdout is not None
            for raw_line in process.stdout:
                line = raw_line.rstrip()
                last_output[0] = time.monotonic()
                tail.append(line)
                on_line(line)
            returncode = process.wait()
    finally:
        finished.set()
    if returncode != 0:
        output = "\n".join(tail)
        raise BuildError(f"`{' '.join(command)}` failed with exit code {returncode}:\n{output}")


def env_with_go_on_path(go: str) -> dict[str, str]:
    """OCB runs the `go` it finds on PATH; make that the one we were given."""
    path = os.pathsep.join([str(Path(go).parent), os.environ.get("PATH", "")])
    return {**os.environ, "PATH": path}


def install_builder(go: str, version: str, started: float) -> Path:
    """OCB `version`, installed into the cache (not into GOPATH/bin) so it never shadows another."""
    install_dir = CACHE_ROOT / f"builder-{version}"
    builder = install_dir / "builder"
    if builder.is_file():
        return builder
    log(f"installing {BUILDER_MODULE}@{version}", started)
    run_streaming(
        [go, "install", f"{BUILDER_MODULE}@{version}"],
        cwd=REPO_ROOT,
        env={**os.environ, "GOBIN": str(install_dir)},
        on_line=lambda line: log(line, started),
        activity="installing the builder",
        started=started,
    )
    return builder


def generate_sources(go: str, builder: Path, manifest: Path, workdir: Path, started: float) -> None:
    """OCB writes the collector's Go sources and fetches every module (the slow, networked part)."""
    log("generating sources and downloading Go modules (OCB)", started)
    run_streaming(
        [str(builder), "--config", str(manifest), "--skip-compilation"],
        cwd=workdir,
        env=env_with_go_on_path(go),
        on_line=lambda line: log(f"ocb: {line}", started),
        activity="downloading Go modules",
        started=started,
    )


def compile_collector(go: str, source_dir: Path, name: str, started: float) -> None:
    """`go build` as OCB runs it (static, stripped), run here with -v for per-package progress."""
    env = {**os.environ, "CGO_ENABLED": "0"}
    listing = subprocess.run(
        [go, "list", "-deps", "."], cwd=source_dir, env=env, capture_output=True, text=True
    )
    total = len(listing.stdout.split()) if listing.returncode == 0 else 0
    log(f"compiling {name}: {total} packages (cached ones are not recompiled)", started)
    compiled = [0]

    def count_package(line: str) -> None:
        if " " in line or not line:
            log(line, started)
            return
        compiled[0] += 1
        if compiled[0] % PROGRESS_EVERY_PACKAGES == 0:
            log(f"compiled {compiled[0]}/{total} packages", started)

    run_streaming(
        [go, "build", "-v", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", name, "."],
        cwd=source_dir,
        env=env,
        on_line=count_package,
        activity="compiling",
        started=started,
    )


def remove_stale_builds(current: Path, builder_dir: Path) -> None:
    """Builds of earlier manifests are never used again; each holds a 45 MB binary."""
    for entry in CACHE_ROOT.iterdir():
        stale_build = entry.name.startswith("otelcol-") and entry != current
        stale_builder = entry.name.startswith("builder-") and entry != builder_dir
        if entry.is_dir() and (stale_build or stale_builder):
            shutil.rmtree(entry, ignore_errors=True)


def ensure_collector(go: str, manifest: Path = MANIFEST) -> Path:
    """Path of the collector for the manifest's current content, building it first if needed."""
    binary = binary_path(manifest)
    if binary.is_file():
        return binary
    started = time.monotonic()
    loaded = load_manifest(manifest)
    builder = install_builder(go, builder_version(loaded), started)
    final_dir = build_dir(manifest)
    # Build beside the final folder and rename at the end, so an interrupted build leaves no binary.
    workdir = CACHE_ROOT / f".partial-{final_dir.name}-{os.getpid()}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    try:
        generate_sources(go, builder, manifest.resolve(), workdir, started)
        dist = loaded["dist"]
        compile_collector(go, workdir / dist["output_path"], dist["name"], started)
        if not final_dir.exists():
            workdir.rename(final_dir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    remove_stale_builds(final_dir, builder.parent)
    log(f"built {binary} in {format_seconds(time.monotonic() - started)}", started)
    return binary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m collector.build",
        description="Build (or reuse) the OCB collector of collector/builder-config.yaml "
        "and print its path.",
    )
    parser.parse_args(argv)
    go = shutil.which("go")
    if go is None:
        print("go not found on PATH: install Go (https://go.dev/dl/)", file=sys.stderr)
        return 2
    try:
        print(ensure_collector(go))
    except BuildError as error:
        print(f"collector build failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
