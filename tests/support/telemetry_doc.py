"""The telemetry contract as docs/telemetry.md writes it: metric, event and span tables.

Tests read the page with these helpers and compare it with tools/telemetry/catalog.py, with what
the generator produces and with what arrives through the real collector.
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from tests.support.external import REPO_ROOT

DOC = REPO_ROOT / "docs" / "telemetry.md"
METRIC_TABLE_HEADER = "| Prometheus name |"
EVENT_TABLE_HEADER = "| `event_name` |"
SPAN_TABLE_HEADER = "| Span name |"
BACKTICKED = re.compile(r"`([^`]+)`")
PARENTHESES = re.compile(r"\([^)]*\)")
# "`type` (`input`, `output`)": a label and the values the doc allows for it.
ENUMERATED_LABEL = re.compile(r"`(\w+)` \(((?:`[^`]+`(?:, )?)+)\)")


@dataclass(frozen=True)
class DocumentedMetric:
    name: str
    labels: frozenset[str]
    values: Mapping[str, frozenset[str]]  # label -> allowed values, where the doc lists them


@dataclass(frozen=True)
class DocumentedEvent:
    always: frozenset[str]  # structured metadata besides the common keys
    where_it_applies: frozenset[str]


def table_rows(text: str, header: str) -> Iterator[list[str]]:
    in_table = False
    for line in text.splitlines():
        if line.startswith(header):
            in_table = True
            continue
        if not line.startswith("|"):
            in_table = False
            continue
        if in_table and not line.startswith("|---"):
            yield [cell.strip() for cell in line.strip().strip("|").split("|")]


def expand_series_names(cell: str) -> list[str]:
    """`x_bucket` `_sum` `_count` -> x_bucket, x_sum, x_count."""
    names, base = [], ""
    for token in BACKTICKED.findall(cell):
        if token.startswith("_"):
            names.append(base + token)
        else:
            names.append(token)
            base = token.removesuffix("_bucket")
    return names


def documented_metrics() -> dict[str, DocumentedMetric]:
    text = DOC.read_text(encoding="utf-8")
    metrics: dict[str, DocumentedMetric] = {}
    for cells in table_rows(text, METRIC_TABLE_HEADER):
        names_cell, labels_cell = cells[0], cells[3]
        labels = frozenset(BACKTICKED.findall(PARENTHESES.sub("", labels_cell)))
        values = {
            label: frozenset(BACKTICKED.findall(listed))
            for label, listed in ENUMERATED_LABEL.findall(labels_cell)
        }
        for name in expand_series_names(names_cell):
            metrics[name] = DocumentedMetric(name, labels, values)
    return metrics


def common_event_metadata() -> frozenset[str]:
    text = DOC.read_text(encoding="utf-8")
    common = re.search(r"Common structured metadata:(.*?)\.\s", text, re.DOTALL)
    assert common, "docs/telemetry.md lost its 'Common structured metadata:' sentence"
    return frozenset(BACKTICKED.findall(common.group(1)))


def documented_events() -> dict[str, DocumentedEvent]:
    """event_name -> the structured metadata the doc promises besides the common keys."""
    return {
        BACKTICKED.findall(cells[0])[0]: DocumentedEvent(
            frozenset(BACKTICKED.findall(cells[1])), frozenset(BACKTICKED.findall(cells[2]))
        )
        for cells in table_rows(DOC.read_text(encoding="utf-8"), EVENT_TABLE_HEADER)
    }


def documented_event_metadata() -> dict[str, frozenset[str]]:
    """event_name -> the structured metadata every such event carries, common keys included."""
    common = common_event_metadata()
    return {name: event.always | common for name, event in documented_events().items()}


def documented_spans() -> dict[str, frozenset[str]]:
    """Claude Code span name -> the attributes the doc lists for it."""
    return {
        BACKTICKED.findall(cells[0])[0]: frozenset(BACKTICKED.findall(cells[1]))
        for cells in table_rows(DOC.read_text(encoding="utf-8"), SPAN_TABLE_HEADER)
    }
