"""OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`.

Timestamps are seconds (milliseconds would land in year 58864), each series' samples are in time
order, families are contiguous, and the file ends with `# EOF`.
"""

import bisect
import math
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


def write_openmetrics_windows(
    families: Iterable[Family], directory: Path, window_seconds: float
) -> tuple[int, list[Path]]:
    """The same samples as write_openmetrics, one file per `window_seconds` since the epoch
    (`window-<start>.om`, families in the same order), so promtool, which parses a whole file once
    per block it writes, parses each sample once when the windows are its block duration.
    Returns the number of samples and the files in time order."""
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[int, TextIO] = {}
    headed: set[tuple[int, str]] = set()
    written = 0
    try:
        for family in families:
            for series in family.series:
                prefix = series.name + _format_labels(series.labels) + " "
                times = [t for t, _ in series.samples]
                at = 0
                while at < len(times):
                    window = math.floor(times[at] / window_seconds)
                    upto = bisect.bisect_left(times, (window + 1) * window_seconds, lo=at)
                    if window not in files:
                        name = directory / f"window-{int(window * window_seconds)}.om"
                        files[window] = name.open("w", encoding="utf-8")
                    out = files[window]
                    if (window, family.name) not in headed:
                        headed.add((window, family.name))
                        out.write(f"# HELP {family.name} {family.help}\n")
                        out.write(f"# TYPE {family.name} {family.metric_type.value}\n")
                    out.write(
                        "".join(
                            f"{prefix}{_format_value(v)} {t:.3f}\n"
                            for t, v in series.samples[at:upto]
                        )
                    )
                    written += upto - at
                    at = upto
    finally:
        for out in files.values():
            out.write("# EOF\n")
            out.close()
    paths = [directory / f"window-{int(w * window_seconds)}.om" for w in sorted(files)]
    return written, paths
