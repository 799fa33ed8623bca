"""docs/telemetry.md, the catalog and the generator agree, in both directions: every metric name,
label and label value, every Claude Code event with its attributes, every beta-trace span with
its attributes."""

import io
import re
from collections import defaultdict
from functools import cache

import pytest

from tests.support.telemetry_doc import (
    common_event_metadata,
    documented_events,
    documented_metrics,
    documented_spans,
)
from tools.telemetry import catalog
from tools.telemetry.events import Traffic
from tools.telemetry.logs import loki_entries
from tools.telemetry.naming import prometheus_label_name
from tools.telemetry.openmetrics import write_families
from tools.telemetry.scenario import Scenario
from tools.telemetry.simulate import simulate
from tools.telemetry.storage import stored_families
from vocabulary.pricing import load_pricing

# Every app profile (apps=6: each GenAI generation) and enough Claude Code for every event.
SCENARIO = Scenario(days=2, users=5, apps=6, app_days=0.25, tempo_interval=60, scrape_interval=60)
_SERIES = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
OTLP_SOURCES = (catalog.CLAUDE_CODE, catalog.GENAI_APPS, catalog.GENAI_GENERATIONS)


@cache
def traffic() -> Traffic:
    return simulate(SCENARIO)


@cache
def generated_labels() -> dict[str, dict[str, set[str]]]:
    """Series name -> label -> every value the generator stored."""
    out = io.StringIO()
    write_families(stored_families(traffic(), SCENARIO), out)
    labels: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for line in out.getvalue().splitlines():
        match = _SERIES.match(line)
        if not match or line.startswith("#"):
            continue
        name, pairs = match.groups()
        labels[name]  # a series without labels still names its metric
        for label, value in _LABEL.findall(pairs or ""):
            labels[name][label].add(value)
    return labels


def otlp_metrics() -> dict[str, tuple[catalog.Source, catalog.Instrument]]:
    return {
        name: (source, metric)
        for source in OTLP_SOURCES
        for metric in source.metrics
        if isinstance(metric, catalog.Instrument)
        for name in catalog.series_names(metric)
    }


def test_the_doc_lists_metric_tables() -> None:
    assert len(documented_metrics()) > 20


def test_every_documented_metric_is_generated_and_every_generated_one_documented() -> None:
    documented = set(documented_metrics())
    contract = catalog.all_series_names()
    assert documented - contract == set(), "documented but not generated"
    assert contract - documented == set(), "generated but not documented"


def test_every_documented_metric_comes_out_of_the_generator() -> None:
    assert set(documented_metrics()) - set(generated_labels()) == set()


def test_documented_otlp_labels_are_the_catalog_attributes() -> None:
    documented = documented_metrics()
    for name, (_source, metric) in otlp_metrics().items():
        assert documented[name].labels == set(metric.labels), name


@pytest.mark.parametrize("name", sorted(otlp_metrics()))
def test_the_generator_stores_exactly_the_documented_labels(name: str) -> None:
    source, _metric = otlp_metrics()[name]
    expected = set(documented_metrics()[name].labels) | set(source.resource_labels)
    if name.endswith("_bucket"):
        expected.add("le")
    stored = set(generated_labels()[name])
    # Apps set no service.instance.id on Claude Code's side; an app series always has one.
    expected -= {"instance"} if source is catalog.CLAUDE_CODE else set()
    # team and cost_center only where a user or app sets them: every Claude Code series of
    # such a user, one app's series.
    optional = set(catalog.TEAM_LABELS)
    assert stored - optional == expected - optional
    if source is catalog.CLAUDE_CODE:
        assert optional <= stored


@pytest.mark.parametrize("name", sorted(otlp_metrics()))
def test_generated_label_values_are_the_documented_ones(name: str) -> None:
    stored = generated_labels()[name]
    for label, allowed in documented_metrics()[name].values.items():
        assert stored[label] and stored[label] <= allowed, label


def test_claude_code_events_are_the_documented_ones_both_ways() -> None:
    documented = documented_events()
    generated: dict[str, set[frozenset[str]]] = defaultdict(set)
    for entry in loki_entries(traffic()):
        if entry["stream"]["service_name"] in catalog.CLAUDE_CODE_SERVICES:
            metadata = entry["structured_metadata"]
            generated[metadata["event_name"]].add(frozenset(metadata))
    common = common_event_metadata() | {"event_name"}

    assert set(documented) == set(catalog.CLAUDE_CODE_EVENTS) == set(generated)
    for name, event in documented.items():
        in_catalog = {prometheus_label_name(a) for a in catalog.CLAUDE_CODE_EVENTS[name]}
        assert event.always == in_catalog, name
        optional = {
            prometheus_label_name(a)
            for a in catalog.CLAUDE_CODE_EVENT_OPTIONAL_ATTRIBUTES.get(name, ())
        }
        assert optional <= event.where_it_applies, name
        for keys in generated[name]:
            allowed = event.always | common | optional | set(catalog.TEAM_LABELS)
            assert event.always | common <= keys <= allowed, name


def test_claude_code_spans_are_the_documented_ones_both_ways() -> None:
    documented = documented_spans()
    generated: dict[str, set[frozenset[str]]] = defaultdict(set)
    for span in traffic().claude_code_spans:
        generated[span.name].add(frozenset(key for key, _ in span.attributes))

    assert set(documented) == set(catalog.CLAUDE_CODE_SPANS) == set(generated)
    for name, attributes in documented.items():
        assert attributes == set(catalog.CLAUDE_CODE_SPANS[name]), name
        assert generated[name] == {attributes}, name


def test_desktop_and_cli_both_appear_in_the_generated_data() -> None:
    services = generated_labels()["claude_code_cost_usage_USD_total"]["service_name"]
    assert services == set(catalog.CLAUDE_CODE_SERVICES)


def test_every_panel_and_report_query_counts_claude_code_desktop_too() -> None:
    import json

    from dashboards import render_all
    from tools.report.queries import ALL_QUERIES
    from vocabulary.names import CLAUDE_CODE_EVENTS, CLAUDE_CODE_SERVICES

    texts = [json.dumps(render_all(load_pricing()))] + [query.template for query in ALL_QUERIES]
    cli_only = re.compile(r'(service_name|job)\\?"?\s*=\s*\\?"claude-code\\?"')

    assert CLAUDE_CODE_SERVICES == catalog.CLAUDE_CODE_SERVICES
    assert [text for text in texts if cli_only.search(text)] == []
    assert sum(text.count(CLAUDE_CODE_EVENTS.replace('"', '\\"')) for text in texts[:1]) > 0
