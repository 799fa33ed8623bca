"""OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`.

Timestamps are seconds (milliseconds would land in year 58864), each series' samples are in time
order, families are contiguous, and the file ends with `# EOF`.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from tools.telemetry.storage import Family, Labels


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _format_labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels) + "}"


def _format_value(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def write_families(families: Iterable[Family], out: TextIO) -> int:
    """Write families as OpenMetrics; returns the number of samples written."""
    written = 0
    for family in families:
        out.write(f"# HELP {family.name} {family.help}\n")
        out.write(f"# TYPE {family.name} {family.metric_type.value}\n")
        for series in family.series:
            prefix = series.name + _format_labels(series.labels) + " "
            out.write("".join(f"{prefix}{_format_value(v)} {t:.3f}\n" for t, v in series.samples))
            written += len(series.samples)
    out.write("# EOF\n")
    return written


def write_openmetrics(families: Iterable[Family], path: Path) -> int:
    with path.open("w", encoding="utf-8") as out:
        return write_families(families, out)
