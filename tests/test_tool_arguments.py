"""Every tool refuses malformed arguments up front: exit status 2, one line on stderr, no
traceback, nothing written."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.external import REPO_ROOT
from tools.querylab.ports import free_port

# {file}: an existing file; {dir}: an existing empty folder; {port}: a closed port.
MALFORMED: dict[str, list[list[str]]] = {
    "tools.synth": [
        [],
        ["nope"],
        ["local", "--bogus"],
        ["local", "--out", "{dir}"],
        ["local", "--out", "{file}/plan.json"],
        ["local", "--stack-file", "{dir}/Pulumi.local.yaml"],
    ],
    "tools.export": [
        [],
        ["pdf", "{dir}"],
        ["dashboards"],
        ["dashboards", "{file}"],
        ["alerts", "{file}/rules"],
        ["alerts", "{dir}", "--stack", "nope"],
    ],
    "tools.report": [
        [],
        ["--month", "2026-13"],
        ["--month", "2026-10", "--day", "2026-10-01"],
        ["--month", "2026-10", "--prometheus", "not-a-url"],
        ["--month", "2026-10", "--prometheus", "http://[::1"],
        ["--month", "2026-10", "--prometheus", "127.0.0.1:9090"],
        ["--month", "2026-10", "--prometheus", "http://127.0.0.1:notaport"],
        ["--month", "2026-10", "--loki", "ftp://logs.example.com"],
        ["--month", "2026-10", "--out", "{file}"],
        ["--month", "2026-10", "--out", "{file}/reports"],
        ["--month", "2026-10", "--top", "0"],
        ["--month", "2026-10", "--timeout", "-1"],
        ["--month", "2026-10", "--budget", "lots"],
        ["--month", "2026-10", "--as-of", "yesterday"],
    ],
    "tools.loadgen": [
        ["--minutes", "0"],
        ["--minutes", "-1"],
        ["--minutes", "ten"],
        ["--minutes", "inf"],
        ["--requests-per-minute", "-3"],
        ["--progress-every", "0"],
        ["--export-interval", "0"],
        ["--users", "-1"],
        ["--apps", "1.5"],
        ["--protocol", "udp"],
        ["--endpoint", "127.0.0.1:4317"],
        ["--endpoint", "grpc://127.0.0.1:4317"],
        ["--jsonl-dir", "{file}"],
        ["--endpoint", "http://127.0.0.1:{port}", "--minutes", "1"],
    ],
    "tools.telemetry": [
        [],
        ["csv", "{dir}/x.csv"],
        ["openmetrics"],
        ["openmetrics", "{dir}"],
        ["jsonl", "{file}/x.jsonl"],
        ["jsonl", "{dir}/x.jsonl", "--days", "0"],
        ["jsonl", "{dir}/x.jsonl", "--users", "-1"],
        ["jsonl", "{dir}/x.jsonl", "--days", "2", "--app-days", "5"],
        ["totals", "--app-requests-per-hour", "nan"],
    ],
    "tools.diff": [
        ["HEAD~1", "HEAD", "HEAD"],
        ["--plans", "{file}"],
        ["--plans", "{dir}", "{dir}"],
        ["HEAD", "--plans", "{dir}", "{dir}"],
        ["no-such-ref-anywhere", "HEAD"],
        ["--out", "{dir}", "--plans", "{dir}", "{dir}"],
        ["--bogus"],
    ],
    "tools.stack_file": [
        [],
        ["local"],
        ["local", "--"],
        ["no-such-stack", "--", "pulumi", "preview"],
    ],
    "tools.pricing": [
        [],
        ["unpriced", "--bogus"],
        ["unpriced", "--prometheus", "not-a-url"],
        ["unpriced", "--prometheus", "http://127.0.0.1:9090", "--range", "30x"],
        ["unpriced", "--prometheus", "http://127.0.0.1:9090", "--at", "yesterday"],
        ["unpriced", "--prometheus", "http://127.0.0.1:9090", "--timeout", "0"],
        ["unpriced", "--prometheus", "http://127.0.0.1:9090", "--pricing", "{file}"],
        ["unpriced", "--prometheus", "http://127.0.0.1:{port}"],
    ],
    "tools.bench": [
        ["--users", "0"],
        ["--days", "nan"],
        ["--days", "-30"],
        ["--repeat", "0"],
        ["--raw-repeat", "0"],
        ["--ranges", "1d"],
        ["--ranges", ","],
        ["--apps", "two"],
        ["--bogus"],
    ],
}

CASES = [
    pytest.param(tool, args, id=f"{tool.removeprefix('tools.')} {' '.join(args) or '(none)'}")
    for tool, cases in MALFORMED.items()
    for args in cases
]


def _main_of(tool: str) -> Callable[[list[str]], int]:
    module = importlib.import_module(
        f"{tool}.cli" if tool in ("tools.report", "tools.diff") else f"{tool}.__main__"
        if tool == "tools.telemetry" else tool
    )  # fmt: skip
    return module.main  # type: ignore[no-any-return]


def _filled(args: list[str], tmp_path: Path) -> list[str]:
    folder = tmp_path / "empty"
    folder.mkdir(exist_ok=True)
    existing = tmp_path / "a-file"
    existing.write_text("not a folder\n")
    port = str(free_port())
    return [a.format(file=existing, dir=folder, port=port) for a in args]


def _assert_refused(status: object, out: str, err: str, folder: Path) -> None:
    assert status == 2, err
    assert "Traceback" not in out + err
    assert err.count("\n") == 1 and err.strip(), f"not one line: {err!r}"
    assert err.startswith("error: ") or err.startswith("synth: "), err
    assert list(folder.iterdir()) == [], "wrote into the folder"


def test_every_tool_has_malformed_cases() -> None:
    assert sorted(MALFORMED) == sorted(
        f"tools.{p.stem if p.is_file() else p.name}"
        for p in (REPO_ROOT / "tools").iterdir()
        if (p.suffix == ".py" and p.stem not in ("__init__", "arguments"))
        or (p.is_dir() and (p / "__main__.py").is_file())
    )


@pytest.mark.parametrize(("tool", "args"), CASES)
def test_malformed_arguments_give_one_line_and_exit_2(
    tool: str, args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _filled(args, tmp_path)
    try:
        status: object = _main_of(tool)(argv)
    except SystemExit as exit_:
        status = exit_.code
    printed = capsys.readouterr()
    _assert_refused(status, printed.out, printed.err, tmp_path / "empty")


@pytest.mark.parametrize("tool", sorted(MALFORMED))
def test_as_a_command_too(tool: str, tmp_path: Path) -> None:
    argv = _filled(MALFORMED[tool][1], tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", tool, *argv],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    _assert_refused(result.returncode, result.stdout, result.stderr, tmp_path / "empty")
