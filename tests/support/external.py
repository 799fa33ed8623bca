"""Finding the real tools the slow tests run (Prometheus, promtool, node, go, the collector).

On a laptop a missing tool skips its tests with a line saying how to get it; in CI
(`LLM_O11Y_REQUIRE_TOOLS=1`, set by .ci/run) a missing tool fails them instead.
"""

import os

import pytest

from tools.querylab.binaries import CACHE_BIN, REPO_ROOT, locate

__all__ = ["CACHE_BIN", "REPO_ROOT", "find_tool", "tools_required"]


def tools_required() -> bool:
    return os.environ.get("LLM_O11Y_REQUIRE_TOOLS") == "1"


def find_tool(name: str, how_to_install: str) -> str:
    """Path of executable `name`; skips (or fails in CI) with `how_to_install` when absent."""
    found = locate(name)
    if found:
        return found
    message = f"{name} not found: {how_to_install}"
    if tools_required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
