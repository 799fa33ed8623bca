"""The monthly cost report and the daily digest: `python -m tools.report --help`.

Queries the stack's Prometheus (and optionally Loki) HTTP APIs for one UTC month or day and
writes a self-contained HTML report plus a Markdown summary; docs/report.md explains each section
and the exact semantics of its queries.
"""
