"""Where the real tools are: the builds from pinned sources in .cache/bin (`make tools`) win over
whatever is on PATH."""

import os
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_BIN = REPO_ROOT / ".cache" / "bin"
PROMETHEUS_HINT = "install Prometheus (apt-get install -y prometheus) or run `make tools`"


def locate(name: str) -> str | None:
    """Path of executable `name`: the pinned build, else the one on PATH, else None."""
    cached = CACHE_BIN / name
    if cached.is_file() and os.access(cached, os.X_OK):
        return str(cached)
    return shutil.which(name)
