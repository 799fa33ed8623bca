"""The real processes of the collector pipeline test, on free 127.0.0.1 ports.

Prometheus runs with the local stack's own flags (components/local_stack.py) and
configs/prometheus/prometheus.yml, changed only where a test must: just the scrape jobs whose
targets run here, on 127.0.0.1, every second. The collector runs our configs unchanged; a last
`--config` file written by the test moves its listening ports to free ones (the collector merges
config files map by map), and the exporter endpoints come from the environment variables
config.yaml reads.
"""

import contextlib
import copy
import os
import re
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from components.local_stack import prometheus_service
from components.settings import LocalSettings
from tests.support.external import REPO_ROOT, tools_required
from tools.querylab.ports import free_port
from tools.querylab.prometheus import PrometheusServer

PROMETHEUS_CONFIG = REPO_ROOT / "configs" / "prometheus" / "prometheus.yml"
COLLECTOR_CONFIG = REPO_ROOT / "configs" / "otel-collector" / "config.yaml"
# The flags the test sets itself; every other flag is the local stack's.
TEST_OWNED_FLAGS = ("--config.file", "--storage.tsdb.path", "--web.listen-address")
# created-timestamp-zero-ingestion for OTLP arrived in 3.7.0; the OTLP receiver flag in 3.0.
PROMETHEUS_MIN_VERSION = (3, 7)
TEST_SCRAPE_INTERVAL = "1s"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0

T = TypeVar("T")


def wait_until(check: Callable[[], T], timeout: float, what: str, every: float = 0.1) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` and the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"no {what} after {timeout:.0f}s (last check: {result!r})")
        time.sleep(every)


def poll_until(check: Callable[[], bool], timeout: float, every: float = 0.2) -> bool:
    """Poll `check` until it is true (True) or the deadline passes (False); callers then assert
    on what arrived, so a timeout fails with the mismatch rather than with "timed out"."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            return False
        time.sleep(every)
    return True


def http_ok(url: str) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
        return response.status == 200
    return False


def http_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode("utf-8")


# --- processes ---------------------------------------------------------------------------------


@dataclass
class Process:
    """A started server whose output goes to a log file; stop() is safe to call twice."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, characters: int = 3000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-characters:]

    def check_running(self) -> None:
        if self.popen.poll() is not None:
            raise AssertionError(
                f"{self.name} exited ({self.popen.returncode}):\n{self.log_tail()}"
            )

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def start_process(
    name: str, command: list[str], log: Path, env: Mapping[str, str] | None = None
) -> Process:
    with log.open("wb") as output:
        popen = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=dict(env) if env else None
        )
    return Process(name, popen, log)


def wait_ready(process: Process, url: str, timeout: float = START_TIMEOUT_SECONDS) -> None:
    def ready() -> bool:
        process.check_running()
        return http_ok(url)

    try:
        wait_until(ready, timeout, f"{process.name} ready at {url}")
    except AssertionError as error:
        raise AssertionError(f"{error}\n{process.log_tail()}") from None


# --- Prometheus --------------------------------------------------------------------------------


def prometheus_version(binary: str) -> tuple[int, int]:
    output = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=False, timeout=30
    ).stdout
    found = re.search(r"version (\d+)\.(\d+)", output)
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def require_prometheus_version(binary: str) -> None:
    """Skip (fail in CI) on Debian's Prometheus 2.x, which has no OTLP receiver flag."""
    version = prometheus_version(binary)
    if version >= PROMETHEUS_MIN_VERSION:
        return
    wanted = ".".join(map(str, PROMETHEUS_MIN_VERSION))
    message = (
        f"{binary} is Prometheus {version[0]}.{version[1]}; the pipeline test needs >= {wanted} "
        "(OTLP receiver, created-timestamp-zero-ingestion): run `make tools`"
    )
    if tools_required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def production_prometheus_flags() -> list[str]:
    """The local stack's Prometheus flags, minus the ones naming container paths."""
    command = prometheus_service(LocalSettings()).command
    return [flag for flag in command if not flag.startswith(TEST_OWNED_FLAGS)]


def prometheus_test_config(scrape_targets: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Our prometheus.yml with only the named jobs, scraping 127.0.0.1 targets every second."""
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    unknown = set(scrape_targets) - set(jobs)
    assert not unknown, f"no such scrape jobs in {PROMETHEUS_CONFIG.name}: {sorted(unknown)}"
    config["scrape_configs"] = [
        {
            **jobs[name],
            "scrape_interval": TEST_SCRAPE_INTERVAL,
            "static_configs": [{"targets": list(targets)}],
        }
        for name, targets in scrape_targets.items()
    ]
    return config


def start_prometheus(
    binary: str, workdir: Path, port: int, scrape_targets: Mapping[str, Sequence[str]]
) -> tuple[PrometheusServer, Process]:
    config = workdir / "prometheus.yml"
    config.write_text(yaml.safe_dump(prometheus_test_config(scrape_targets)), encoding="utf-8")
    storage = workdir / "prometheus-data"
    command = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={storage}",
        f"--web.listen-address=127.0.0.1:{port}",
        *production_prometheus_flags(),
    ]
    process = start_process("prometheus", command, workdir / "prometheus.log")
    server = PrometheusServer(binary, storage, port, process.popen, process.log)
    wait_ready(process, f"{server.url}/-/ready")
    return server, process


# --- the collector -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectorPorts:
    otlp_grpc: int
    otlp_http: int
    health: int
    telemetry: int  # the collector's own metrics (:8888 in the stack)

    @staticmethod
    def free() -> "CollectorPorts":
        return CollectorPorts(free_port(), free_port(), free_port(), free_port())


def collector_port_override(ports: CollectorPorts) -> dict[str, Any]:
    """The listening addresses of config.yaml, moved to free 127.0.0.1 ports.

    Lists are replaced, not merged, so the telemetry readers are copied from config.yaml with
    only their address changed: every other reader option stays as shipped.
    """
    shipped = yaml.safe_load(COLLECTOR_CONFIG.read_text(encoding="utf-8"))
    readers = copy.deepcopy(shipped["service"]["telemetry"]["metrics"]["readers"])
    for reader in readers:
        reader["pull"]["exporter"]["prometheus"].update(host="127.0.0.1", port=ports.telemetry)
    return {
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"127.0.0.1:{ports.otlp_grpc}"},
                    "http": {"endpoint": f"127.0.0.1:{ports.otlp_http}"},
                }
            }
        },
        "extensions": {"health_check": {"endpoint": f"127.0.0.1:{ports.health}"}},
        "service": {"telemetry": {"metrics": {"readers": readers}}},
    }


def start_collector(
    binary: Path,
    configs: tuple[Path, ...],
    override: dict[str, Any],
    env: Mapping[str, str],
    workdir: Path,
    health_url: str,
) -> Process:
    """The collector with `configs`, then `override` merged over them, and `env` added."""
    workdir.mkdir(parents=True, exist_ok=True)
    override_file = workdir / "collector-test-override.yaml"
    override_file.write_text(yaml.safe_dump(override), encoding="utf-8")
    flags = [f"--config={path}" for path in (*configs, override_file)]
    process = start_process(
        "otel collector",
        [str(binary), *flags],
        workdir / "collector.log",
        env={**os.environ, **env},
    )
    wait_ready(process, health_url)
    return process
