"""The pricing table is passed in: importing a dashboard, alert, component, vocabulary or tool
module never reads configs/pricing.yaml (the program and each tool load it once and hand it on)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

from tests.support.external import REPO_ROOT

PACKAGES = ("vocabulary", "dashboards", "alerts", "components")
TOOLS = ("tools.export", "tools.bench", "tools.pricing", "tools.synth", "tools.report.cli")
# Importing these with load_pricing and parse_pricing made to fail: a module that prices at
# import time fails the import.
IMPORT_WITHOUT_PRICES = """
import importlib, sys
import vocabulary.pricing as pricing

def refuse(*args, **kwargs):
    raise RuntimeError("the pricing table was read at import time")

pricing.load_pricing = pricing.parse_pricing = refuse
for module in sys.argv[1:]:
    importlib.import_module(module)
"""


def modules() -> list[str]:
    found = []
    for package in PACKAGES:
        path = REPO_ROOT / package
        found.append(package)
        found += [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(path)])]
    return [*found, *TOOLS]


def import_without_prices(
    names: list[str], *, path: Path = REPO_ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", IMPORT_WITHOUT_PRICES, *names],
        cwd=path,
        env={"PYTHONPATH": f"{path}:{REPO_ROOT}", "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )


def test_no_module_reads_the_pricing_table_when_imported() -> None:
    names = modules()
    assert {"dashboards.claude_code", "dashboards.cost_tokens", "alerts.cost"} <= set(names)
    result = import_without_prices(names)
    assert result.returncode == 0, result.stderr


def test_a_module_that_reads_it_at_import_fails_the_check(tmp_path: Path) -> None:
    (tmp_path / "priced_at_import.py").write_text(
        "from vocabulary.pricing import load_pricing\nTABLE = load_pricing()\n", encoding="utf-8"
    )
    result = import_without_prices(["priced_at_import"], path=tmp_path)
    assert result.returncode != 0
    assert "the pricing table was read at import time" in result.stderr
