"""The log side of a Traffic: seed 000's JSONL cost records, Claude Code events as Loki keeps them.

Loki's OTLP ingest makes `service.name` (and a few other resource attributes) index labels and
keeps every other attribute as structured metadata, dots turned into underscores.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.telemetry import catalog
from tools.telemetry.events import ClaudeCodeEvent, Traffic, team_attributes
from tools.telemetry.naming import prometheus_label_name
from tools.telemetry.storage import CLAUDE_CODE_VERSION


def rfc3339(timestamp: float) -> str:
    return (
        datetime.fromtimestamp(timestamp, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def jsonl_records(traffic: Traffic) -> Iterator[dict[str, Any]]:
    """Seed 000's JSONL cost log: one record per successful LLM call of the apps that log them."""
    for request in traffic.app_requests:
        llm = request.llm
        if not request.writes_jsonl or llm.error_type:
            continue
        yield {
            "timestamp": rfc3339(llm.start + llm.duration),
            "model": llm.model,
            "prompt_tokens": llm.input_tokens,
            "completion_tokens": llm.output_tokens,
            "cost_usd": round(llm.cost_usd, 8),
            "user": request.user,
        }


def claude_code_event_attributes(event: ClaudeCodeEvent) -> dict[str, str | int | float | bool]:
    """The OTLP log record attributes Claude Code sends with an event."""
    process, user = event.process, event.process.user
    return {
        "event.name": event.name,
        "event.timestamp": rfc3339(event.time),
        "session.id": process.session_id,
        "user.account_uuid": user.account_uuid,
        "user.email": user.email,
        "organization.id": user.organization_id,
        "terminal.type": user.terminal_type,
        **dict(event.attributes),
    }


def loki_entries(traffic: Traffic) -> Iterator[dict[str, Any]]:
    """Claude Code events and JSONL lines as Loki stores them: stream labels, structured
    metadata and the log line."""
    for event in traffic.claude_code_events:
        metadata = {
            prometheus_label_name(key): str(value)
            for key, value in claude_code_event_attributes(event).items()
        }
        metadata["service_version"] = CLAUDE_CODE_VERSION
        # Resource attributes other than service.name are structured metadata in Loki.
        metadata.update(team_attributes(event.process.user))
        yield {
            "timestamp": rfc3339(event.time),
            "stream": {"service_name": event.process.service},
            "structured_metadata": metadata,
            "line": f"claude_code.{event.name}",
        }
    for record in jsonl_records(traffic):
        yield {
            "timestamp": record["timestamp"],
            "stream": {"service_name": catalog.JSONL_SERVICE},
            "structured_metadata": {"log_file_name": "llm-cost.jsonl"},
            "line": json.dumps(record, separators=(",", ":")),
        }


def write_jsonl(traffic: Traffic, path: Path) -> int:
    """Write the JSONL cost log the collector's filelog receiver tails; returns the line count."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for record in jsonl_records(traffic):
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
            count += 1
    return count


def write_loki_entries(traffic: Traffic, path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for entry in sorted(loki_entries(traffic), key=lambda item: item["timestamp"]):
            out.write(json.dumps(entry, separators=(",", ":")) + "\n")
            count += 1
    return count
