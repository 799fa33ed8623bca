"""Fixtures shared by several test modules."""

from pathlib import Path

import pytest

from collector import build
from tests.support.external import find_tool


@pytest.fixture(scope="session")
def otelcol() -> Path:
    """The collector built from collector/builder-config.yaml; builds it (minutes when cold) when
    not cached. Skips without Go (fails in CI, LLM_O11Y_REQUIRE_TOOLS=1)."""
    cached = build.binary_path()
    if cached.is_file():
        return cached
    go = find_tool("go", "install Go (https://go.dev/dl/), then run `make collector`")
    return build.ensure_collector(go)
