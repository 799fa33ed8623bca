"""The one table of pinned container images; change a version here and nowhere else.

The set matches grafana/docker-otel-lgtm v0.31.0, whose combination is tested upstream.
The collector's version is also the release collector/builder-config.yaml builds for the tests.
"""

from typing import Final

IMAGES: Final[dict[str, str]] = {
    "otel-collector": "otel/opentelemetry-collector-contrib:0.159.0",
    "prometheus": "prom/prometheus:v3.14.0",
    "loki": "grafana/loki:3.7.6",
    "tempo": "grafana/tempo:3.0.3",
    "grafana": "grafana/grafana:13.1.3",
}


def image_version(service: str) -> str:
    """The tag of a service's image without a leading `v` (e.g. `0.159.0`)."""
    return IMAGES[service].rsplit(":", 1)[1].removeprefix("v")
