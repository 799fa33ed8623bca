"""Finding the real tools the slow tests run (Prometheus, promtool, node, go, the collector).

On a laptop a missing tool skips its tests with a line saying how to get it; in CI
(`LLM_O11Y_REQUIRE_TOOLS=1`, set by .ci/run) a missing tool fails them instead.
"""

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Binaries built from pinned sources (make tools) win over whatever is on PATH.
CACHE_BIN = REPO_ROOT / ".cache" / "bin"


def tools_required() -> bool:
    return os.environ.get("LLM_O11Y_REQUIRE_TOOLS") == "1"


def find_tool(name: str, how_to_install: str) -> str:
    """Path of executable `name`; skips (or fails in CI) with `how_to_install` when absent."""
    cached = CACHE_BIN / name
    if cached.is_file() and os.access(cached, os.X_OK):
        return str(cached)
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} not found: {how_to_install}"
    if tools_required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
