"""OTLP -> Prometheus names, as Prometheus's OTLP receiver writes them.

A port of prometheus/otlptranslator's `UnderscoreEscapingWithSuffixes` strategy (the default of
Prometheus 3.x and the one our prometheus.yml keeps): dots become underscores, the unit becomes a
suffix unless the name already holds it, `{annotations}` in units are dropped, and monotonic
counters end in `_total` (an inner `total` token moves to the end).
"""

import re
from enum import Enum

_UNIT_WORDS = {
    "d": "days",
    "h": "hours",
    "min": "minutes",
    "s": "seconds",
    "ms": "milliseconds",
    "us": "microseconds",
    "ns": "nanoseconds",
    "By": "bytes",
    "KiBy": "kibibytes",
    "MiBy": "mebibytes",
    "GiBy": "gibibytes",
    "KBy": "kilobytes",
    "MBy": "megabytes",
    "GBy": "gigabytes",
    "m": "meters",
    "V": "volts",
    "A": "amperes",
    "J": "joules",
    "W": "watts",
    "g": "grams",
    "Cel": "celsius",
    "Hz": "hertz",
    "1": "",
    "%": "percent",
}
_PER_UNIT_WORDS = {
    "s": "second",
    "m": "minute",
    "h": "hour",
    "d": "day",
    "w": "week",
    "mo": "month",
    "y": "year",
}
_INVALID_NAME_CHAR = re.compile(r"[^a-zA-Z0-9:]")
_INVALID_LABEL_CHAR = re.compile(r"[^a-zA-Z0-9_]")


class MetricType(Enum):
    COUNTER = "counter"
    HISTOGRAM = "histogram"
    GAUGE = "gauge"


def _unit_suffixes(unit: str) -> tuple[str, str]:
    """(main, per) suffix words of a UCUM unit, e.g. `By/s` -> (`bytes`, `per_second`)."""
    main, _, per = unit.partition("/")
    main_word = "" if main.startswith("{") else _UNIT_WORDS.get(main, main)
    per_word = ""
    if per and not per.startswith("{"):
        per_word = "per_" + _PER_UNIT_WORDS.get(per, per)
    return _clean_unit(main_word), _clean_unit(per_word)


def _clean_unit(word: str) -> str:
    return "_".join(token for token in _INVALID_NAME_CHAR.split(word) if token)


def prometheus_metric_name(otel_name: str, unit: str, metric_type: MetricType) -> str:
    """The metric name Prometheus stores (histograms: the base name before `_bucket`/`_sum`)."""
    tokens = [token for token in _INVALID_NAME_CHAR.split(otel_name) if token]
    main, per = _unit_suffixes(unit)
    if main and main not in tokens:
        tokens.append(main)
    if per and per not in tokens:
        tokens.append(per)
    if metric_type is MetricType.COUNTER:
        tokens = [token for token in tokens if token != "total"] + ["total"]
    if unit == "1" and metric_type is MetricType.GAUGE:
        tokens = [token for token in tokens if token != "ratio"] + ["ratio"]
    name = "_".join(tokens)
    return "_" + name if name[:1].isdigit() else name


def prometheus_label_name(attribute: str) -> str:
    """The label an OTLP attribute becomes: invalid characters to `_`, digits prefixed."""
    label = _INVALID_LABEL_CHAR.sub("_", attribute)
    if label[:1].isdigit():
        return "key_" + label
    if label.startswith("_") and not label.startswith("__"):
        return "key" + label
    return label
