"""The query lab: a team's synthetic telemetry in a real Prometheus, queried the way Grafana does.

- `binaries`: where the pinned Prometheus/promtool builds are (`make tools`), else PATH.
- `prometheus`: Grafana's interpolation of `$__interval` and friends, a Prometheus on 127.0.0.1,
  and datasets (generated, backfilled, with the recording rules recorded) cached by content.
- `walker`: every query of every dashboard panel and alert rule, with its datasource kind.
- `ports`: free ports on 127.0.0.1.

The tests (tests/support/datasets.py) and the bench (tools/bench.py) both use it; it imports no
test code.
"""
