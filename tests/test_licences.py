"""No Go module we build requires one that is under the AGPL or marked not to use.

Grafana, Loki, Tempo and Mimir run only as the images users pull; nothing here builds or links
them. Every go.mod in the repository, the collector's builder manifest, and (when it was built)
the go.mod OCB generated from it are read against build/not-to-use-go-modules.txt.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from tests.support.external import REPO_ROOT

NOT_TO_USE = REPO_ROOT / "build" / "not-to-use-go-modules.txt"
_MAJOR_SUFFIX = re.compile(r"/v[0-9]+$")
_REQUIRE_LINE = re.compile(r"^\s*(?:require\s+)?([A-Za-z0-9.\-_~/]+\.[A-Za-z0-9.\-_~/]+)\s+v\S+")


def not_to_use() -> dict[str, str]:
    """Module path -> why, from the list."""
    listed = {}
    for line in NOT_TO_USE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            module, why = line.split("\t", 1)
            listed[module] = why
    return listed


def required_modules(go_mod: str) -> set[str]:
    """Every module a go.mod requires (direct and indirect), from `require` lines and blocks."""
    modules, in_block = set(), False
    for line in go_mod.splitlines():
        stripped = line.strip()
        if stripped.startswith("require ("):
            in_block = True
            continue
        if in_block and stripped == ")":
            in_block = False
            continue
        if in_block or stripped.startswith("require "):
            match = _REQUIRE_LINE.match(stripped)
            if match:
                modules.add(match.group(1))
    return modules


def forbidden(modules: set[str], listed: dict[str, str]) -> list[str]:
    """The modules on the list, as `module (why)`; `/vN` matches the list's base path too."""
    found = []
    for module in sorted(modules):
        for candidate in (module, _MAJOR_SUFFIX.sub("", module)):
            if candidate in listed:
                found.append(f"{module} ({listed[candidate]})")
                break
    return found


def _go_mods() -> list[Path]:
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*go.mod"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    generated = sorted((REPO_ROOT / ".cache" / "collector").glob("*/build/go.mod"))
    return [REPO_ROOT / path for path in tracked] + generated


def test_the_list_holds_the_agpl_servers() -> None:
    listed = not_to_use()
    for module in ("github.com/grafana/loki/v3", "github.com/grafana/grafana", "go.k6.io/k6"):
        assert "AGPL" in listed[module]


def test_the_check_finds_a_listed_module() -> None:
    go_mod = (
        "module example.com/x\n\ngo 1.26\n\nrequire github.com/grafana/loki/v3 v3.7.6\n"
        "require (\n\tgithub.com/grafana/tempo v1.5.0 // indirect\n"
        "\tgithub.com/grafana/regexp v0.0.0-2025 // indirect\n)\n"
    )
    found = forbidden(required_modules(go_mod), not_to_use())
    assert [entry.split(" ")[0] for entry in found] == [
        "github.com/grafana/loki/v3",
        "github.com/grafana/tempo",
    ]


def test_no_go_mod_requires_a_module_not_to_use() -> None:
    listed = not_to_use()
    go_mods = _go_mods()
    assert REPO_ROOT / "build" / "prometheus" / "go.mod" in go_mods
    problems = []
    for path in go_mods:
        modules = required_modules(path.read_text(encoding="utf-8"))
        assert modules, f"{path}: no requirements read"
        problems += [f"{path.relative_to(REPO_ROOT)}: {m}" for m in forbidden(modules, listed)]
    assert not problems, "\n".join(problems)


def test_the_collector_manifest_names_no_module_not_to_use() -> None:
    manifest = yaml.safe_load((REPO_ROOT / "collector" / "builder-config.yaml").read_text())
    modules = {
        entry["gomod"].split()[0]
        for section in ("receivers", "processors", "exporters", "extensions", "connectors")
        for entry in manifest.get(section) or []
    }
    assert modules
    assert not forbidden(modules, not_to_use())
