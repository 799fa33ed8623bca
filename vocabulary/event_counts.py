"""Claude Code events counted into Prometheus: refusals and requests that exhausted their retries.

Both exist only as events (Loki), and LogQL alert rules cannot be unit-tested with promtool. So a
Grafana-managed recording rule on the Loki datasource counts each event per 5-minute window into
Prometheus, and the burst alerts (alerts/agents.py) are PromQL on the recorded counts.

- Window: the record written at t counts the events stamped in (t - 6m, t - 1m], the window of
  every recorded counter (vocabulary/recording.py): consecutive evaluations 5 minutes apart count
  each event once, and an event that reaches Loki up to a minute late is still counted.
- Labels: `service_name` (CLI or Desktop), `user_email`, `team` and `model`, the labels the
  alerts group by and the dashboards filter by; a label an event lacks is absent from its record
  (Loki's `sum by` drops it).
- No event in a window: no sample, as with any recording rule; the alerts sum what is there.

Grafana (components/alerting.py) evaluates the rules on both targets, in their own group, and
writes into the datasource the PromQL recording rules write into. Grafana-managed recording rules
may query any datasource alerting supports, Loki included ("Create Grafana-managed recording
rules", Grafana 13 docs); the rule's `record` names the metric, the query it takes (`from`) and
the `target_datasource_uid`, which Grafana honours since 12.1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from vocabulary import names
from vocabulary.recording import RECORD_WINDOW
from vocabulary.windows import Window

GROUP: Final = "LLM recorded events"
INTERVAL_SECONDS: Final = 300
WINDOW: Final = RECORD_WINDOW
LABELS: Final = (names.SERVICE, names.USER, names.TEAM, names.MODEL)


@dataclass(frozen=True)
class EventCount:
    """One Claude Code event's count per recorded window."""

    event: str
    record: str

    def expr(self) -> str:
        """The LogQL Grafana runs on Loki at each evaluation (an instant query)."""
        events = f'{names.CLAUDE_CODE_EVENTS} | {names.EVENT_NAME}="{self.event}"'
        return f"sum by ({', '.join(LABELS)}) (count_over_time({events} {WINDOW.range()}))"


REFUSALS: Final = EventCount(names.API_REFUSAL, names.REFUSALS_RECORD)
RETRIES_EXHAUSTED: Final = EventCount(names.API_RETRIES_EXHAUSTED, names.RETRIES_EXHAUSTED_RECORD)
EVENT_COUNTS: Final = (REFUSALS, RETRIES_EXHAUSTED)


def events_in(count: EventCount, window: Window | str, by: tuple[str, ...] = ()) -> str:
    """PromQL: how many `count.event` events the recorded windows in `window` hold, by `by`."""
    grouping = f" by ({', '.join(by)})" if by else ""
    return f"sum{grouping} (sum_over_time({count.record}{Window.of(window).range()}))"
