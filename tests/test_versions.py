"""The binaries the tests build are the versions the stack runs."""

from __future__ import annotations

import re
from pathlib import Path

from components.versions import IMAGES, image_version

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_images_are_pinned_to_exact_versions() -> None:
    for service, image in IMAGES.items():
        tag = image.rsplit(":", 1)[1]
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", tag), f"{service}: {image} is not an exact version"


def test_prometheus_build_module_matches_the_image() -> None:
    # Prometheus 3.x is published as Go module v0.3MM.P (3.14.0 -> v0.314.0).
    major, minor, patch = (int(part) for part in image_version("prometheus").split("."))
    expected = f"v0.{major * 100 + minor}.{patch}"
    go_mod = (REPO_ROOT / "build" / "prometheus" / "go.mod").read_text(encoding="utf-8")
    required = re.search(r"^require github.com/prometheus/prometheus (\S+)$", go_mod, re.M)
    assert required is not None
    assert required.group(1) == expected
