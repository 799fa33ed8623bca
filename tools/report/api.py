"""Read-only clients of the Prometheus and Loki HTTP query APIs, with auth and fail-fast errors.

Works with the local stack (no auth) and with Grafana Cloud (basic auth: instance id and a token
with metrics:read / logs:read, or a bearer token). Credentials are sent, never printed: every
error message names the endpoint and the environment variable, not the value.
"""

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PROMETHEUS_AUTH_ENV = "LLM_O11Y_PROMETHEUS_AUTH"
LOKI_AUTH_ENV = "LLM_O11Y_LOKI_AUTH"


class EndpointError(RuntimeError):
    """The endpoint is unreachable, refuses the credentials, or is not the expected API."""


class QueryError(RuntimeError):
    """The endpoint answered but refused a query (its own message is kept)."""


@dataclass(frozen=True)
class Credentials:
    """An Authorization header value; `repr` never shows it."""

    header: str
    kind: str  # "basic" or "bearer", for messages

    def __repr__(self) -> str:
        return f"Credentials(kind={self.kind!r}, header=<hidden>)"


def parse_credentials(value: str | None) -> Credentials | None:
    """`USER:TOKEN` is HTTP basic auth (Grafana Cloud: instance id and token); `Bearer TOKEN`
    or a bare token is a bearer token; empty means no auth."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.lower().startswith("bearer "):
        return Credentials(f"Bearer {value[7:].strip()}", "bearer")
    if ":" in value:
        encoded = base64.b64encode(value.encode()).decode()
        return Credentials(f"Basic {encoded}", "basic")
    return Credentials(f"Bearer {value}", "bearer")


@dataclass
class ApiClient:
    """GET/POST form requests to one base URL; JSON answers in the Prometheus/Loki envelope."""

    name: str  # "Prometheus" or "Loki", for messages
    base_url: str
    credentials: Credentials | None
    auth_hint: str  # where credentials come from, e.g. the env var
    timeout: float = 60.0

    def post(self, path: str, params: Mapping[str, str], timeout: float) -> dict[str, Any]:
        url = self.base_url.rstrip("/") + path
        data = urllib.parse.urlencode(params).encode()
        request = urllib.request.Request(url, data=data, method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        request.add_header("User-Agent", "llm-o11y-report")
        if self.credentials is not None:
            request.add_header("Authorization", self.credentials.header)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return self._json(response.read())
        except urllib.error.HTTPError as error:
            raise self._http_error(error) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise EndpointError(f"cannot reach {self.name} at {self.base_url}: {reason}") from None

    def _json(self, body: bytes) -> dict[str, Any]:
        try:
            decoded = json.loads(body)
        except ValueError:
            raise EndpointError(
                f"{self.name} at {self.base_url} did not answer with JSON: is the URL the "
                f"{self.name} API root?"
            ) from None
        if not isinstance(decoded, dict) or decoded.get("status") != "success":
            message = decoded.get("error", "unknown error") if isinstance(decoded, dict) else ""
            raise QueryError(f"{self.name} refused a query: {message}")
        return decoded["data"]

    def _http_error(self, error: urllib.error.HTTPError) -> Exception:
        if error.code in (401, 403):
            credentials = "no credentials" if self.credentials is None else "the credentials"
            return EndpointError(
                f"{self.name} at {self.base_url} refused {credentials} (HTTP {error.code}); "
                f"set {self.auth_hint}"
            )
        if error.code == 404:
            return EndpointError(
                f"{self.name} at {self.base_url} has no query API (HTTP 404): is the URL right?"
            )
        body = error.read() or b"{}"
        try:
            message = json.loads(body).get("error") or f"HTTP {error.code}"
        except (ValueError, AttributeError):
            message = body.decode("utf-8", "replace").strip().splitlines()[0][:200]
        if 400 <= error.code < 500:
            return QueryError(f"{self.name} refused a query: {message}")
        return EndpointError(
            f"{self.name} at {self.base_url} failed (HTTP {error.code}): {message}"
        )


class PrometheusApi:
    """/api/v1/query and /api/v1/query_range of Prometheus, or of Mimir (Grafana Cloud's
    Prometheus URL ends in /api/prom)."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    def check(self, timeout: float) -> None:
        """One cheap query, so a wrong URL or token fails before the real work starts."""
        self.client.post("/api/v1/query", {"query": "vector(1)"}, timeout)

    def instant(self, expr: str, at: int) -> list[dict[str, Any]]:
        data = self.client.post(
            "/api/v1/query", {"query": expr, "time": str(at)}, self.client.timeout
        )
        return _as_series(data, "value")

    def range(self, expr: str, start: int, end: int, step: int) -> list[dict[str, Any]]:
        params = {"query": expr, "start": str(start), "end": str(end), "step": str(step)}
        data = self.client.post("/api/v1/query_range", params, self.client.timeout)
        return _as_series(data, "values")


class LokiApi:
    """/loki/api/v1/query and /loki/api/v1/query_range (metric queries only)."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    def check(self, timeout: float) -> None:
        self.client.post("/loki/api/v1/labels", {}, timeout)

    def instant(self, expr: str, at: int) -> list[dict[str, Any]]:
        params = {"query": expr, "time": str(at * 1_000_000_000)}
        data = self.client.post("/loki/api/v1/query", params, self.client.timeout)
        return _as_series(data, "value")

    def range(self, expr: str, start: int, end: int, step: int) -> list[dict[str, Any]]:
        params = {
            "query": expr,
            "start": str(start * 1_000_000_000),
            "end": str(end * 1_000_000_000),
            "step": str(step),
        }
        data = self.client.post("/loki/api/v1/query_range", params, self.client.timeout)
        return _as_series(data, "values")


QueryApi = PrometheusApi | LokiApi
Progress = Callable[[str], None]


def _as_series(data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """Every result as {"metric": labels, "values": [[t, "v"], ...]} (instant: one point)."""
    result_type = data.get("resultType")
    if result_type not in ("vector", "matrix"):
        raise QueryError(f"expected a vector or matrix, got {result_type}")
    series = []
    for entry in data.get("result", []):
        points = [entry["value"]] if key == "value" else entry.get("values", [])
        series.append({"metric": entry.get("metric", {}), "values": points})
    return series
