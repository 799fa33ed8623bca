"""Windows and the one way a counter is counted (see vocabulary/__init__.py).

A `Window` is a PromQL range, optionally shifted; `observed_increase()` is how much a counter's
samples grew inside one, per series, without extrapolation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Window:
    """A PromQL window: `[duration]`, optionally shifted. `Window("$__interval", "-$__interval")`
    on a panel with interval 1d makes the point at midnight D cover day D itself (without the
    offset it would cover the day before)."""

    duration: str
    offset: str | None = None

    @classmethod
    def of(cls, window: Window | str) -> Window:
        """A Window from itself or from its text, e.g. `[1h]` or `[1d] offset -1d`."""
        if isinstance(window, Window):
            return window
        match = re.fullmatch(r"\[([^\]:]+)\](?:\s+offset\s+(\S+))?", window.strip())
        if match is None:
            raise ValueError(f"not a PromQL window: {window!r}")
        return cls(match.group(1), match.group(2))

    def range(self) -> str:
        return f"[{self.duration}]{_offset(self.offset)}"

    def start(self) -> str:
        """The offset that moves an instant selector to the window's start."""
        if self.offset is None:
            return _offset(self.duration)
        if self.offset == f"-{self.duration}":
            return ""
        duration, shift = _LITERAL.fullmatch(self.duration), _LITERAL.fullmatch(self.offset)
        if duration and shift and duration.group(2) == shift.group(2):
            return _offset(f"{int(duration.group(1)) + int(shift.group(1))}{shift.group(2)}")
        raise ValueError(f"cannot place the start of {self.range()}")


_LITERAL = re.compile(r"(\d+)([smhdwy])")


def _offset(offset: str | None) -> str:
    return f" offset {offset}" if offset else ""


PICKER_RANGE: Final = Window("$__range")
OWN_INTERVAL: Final = Window("$__interval", "-$__interval")


def observed_increase(selector: str, window: Window | str, *, carry: str = "10m") -> str:
    """Per series, how much a counter's samples grew in `window`, without extrapolation.
    increase() extrapolates half a sample interval past a series' last sample, which series
    that live minutes to hours (one per Claude Code session) turn into a 0.5-1.2 % overcount a
    day. Instead, with `before` the last sample before the window and `last` the last in it:

    - no reset: `last - before`;
    - no sample before: `last - lowest`, which is the whole series when it was born in the
      window (restarted processes begin at 0: Prometheus stores OTLP start-time zeros), and
      only what grew in the window when a series comes back after a silence longer than
      `carry` (what grew during the silence is lost rather than the whole total counted again);
    - a restart between `before` and the window (lowest sample under `before`): `last`;
    - one restart inside the window: what grew before it (the window's highest sample, the
      old process's last, minus `before`) plus `last`;
    - anything else (several restarts in the window) falls back to increase().

    Meant for series that report every minute or so (OTLP exporters): the sample before the
    window is looked for `carry` back.
    """
    span = Window.of(window).range()
    # `- 0` drops the metric name that the *_over_time functions keep, so label sets match.
    last = f"(last_over_time({selector}{span}) - 0)"
    before = f"(last_over_time({selector}[{carry}]{Window.of(window).start()}) - 0)"
    lowest = f"(min_over_time({selector}{span}) - 0)"
    highest = f"(max_over_time({selector}{span}) - 0)"
    resets = f"resets({selector}{span})"
    no_reset, one_reset = f"({resets} == 0)", f"({resets} == 1)"
    continued = f"(({last} - {before}) and (({lowest} - {before}) >= 0) and {no_reset})"
    born = f"((({last} - {lowest}) unless {before}) and {no_reset})"
    restarted = f"({last} and ({lowest} < {before}) and {no_reset})"
    restarted_inside = (
        f"(({last} + {highest} - {before}) and (({highest} - {before}) >= 0) and {one_reset})"
    )
    born_and_restarted = f"((({last} + {highest} - {lowest}) unless {before}) and {one_reset})"
    exact = " or ".join((continued, born, restarted, restarted_inside, born_and_restarted))
    return f"({exact} or increase({selector}{span}))"
