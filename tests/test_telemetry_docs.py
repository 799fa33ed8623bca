"""docs/telemetry.md and the generator agree on every metric name, in both directions."""

import io
import re

from tests.support.external import REPO_ROOT
from tools.telemetry import catalog
from tools.telemetry.openmetrics import write_families
from tools.telemetry.scenario import Scenario
from tools.telemetry.simulate import simulate
from tools.telemetry.storage import stored_families

DOC = REPO_ROOT / "docs" / "telemetry.md"
_HEADER = "| Prometheus name |"


def documented_metric_names() -> set[str]:
    """Names in the first column of every metric table; `_sum`/`_count` extend the bucket name."""
    names: set[str] = set()
    in_table = False
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith(_HEADER):
            in_table = True
            continue
        if not line.startswith("|"):
            in_table = False
            continue
        if not in_table or line.startswith("|---"):
            continue
        first_cell = line.split("|")[1]
        base = ""
        for token in re.findall(r"`([^`]+)`", first_cell):
            if token.startswith("_"):
                names.add(base + token)
            else:
                names.add(token)
                base = token.removesuffix("_bucket")
    return names


def test_the_doc_lists_metric_tables() -> None:
    assert len(documented_metric_names()) > 20


def test_every_documented_metric_is_generated_and_every_generated_one_documented() -> None:
    documented = documented_metric_names()
    contract = catalog.all_series_names()
    assert documented - contract == set(), "documented but not generated"
    assert contract - documented == set(), "generated but not documented"


def test_every_documented_metric_comes_out_of_the_generator() -> None:
    scenario = Scenario(
        days=1, users=2, apps=6, app_days=0.25, tempo_interval=60, scrape_interval=60
    )
    out = io.StringIO()
    write_families(stored_families(simulate(scenario), scenario), out)
    generated = {
        re.split(r"[{ ]", line, maxsplit=1)[0]
        for line in out.getvalue().splitlines()
        if line and not line.startswith("#")
    }
    assert documented_metric_names() - generated == set()
