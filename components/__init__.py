"""Pulumi components of llm-o11y: settings, targets, and the Grafana content on them."""
