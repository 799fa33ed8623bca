"""The OCB manifest pins the image's collector release, and the real collector accepts our configs.

The `collector` tests run `otelcol validate` on the binary that collector/build.py builds from
collector/builder-config.yaml (same release as the otel-collector image), so a renamed option or
component fails here rather than when the container starts.
"""

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from collector import build
from components.local_stack import USER_IDENTITY_SALT_FILE
from components.versions import image_version
from tests.support.external import REPO_ROOT

COLLECTOR_CONFIG_DIR = REPO_ROOT / "configs" / "otel-collector"
BASE_CONFIG = COLLECTOR_CONFIG_DIR / "config.yaml"
JSONL_LOGS_CONFIG = COLLECTOR_CONFIG_DIR / "jsonl-logs.yaml"
USER_IDENTITY_DROP = COLLECTOR_CONFIG_DIR / "user-identity-drop.yaml"
USER_IDENTITY_HASH = COLLECTOR_CONFIG_DIR / "user-identity-hash.yaml"
# The --config combinations the local target starts the collector with (the cloud target has none).
SHIPPED_CONFIG_SETS: dict[str, tuple[Path, ...]] = {
    "local": (BASE_CONFIG,),
    "local-with-jsonl-folder": (BASE_CONFIG, JSONL_LOGS_CONFIG),
    "local-user-identity-drop": (BASE_CONFIG, USER_IDENTITY_DROP),
    "local-with-jsonl-folder-user-identity-drop": (
        BASE_CONFIG,
        JSONL_LOGS_CONFIG,
        USER_IDENTITY_DROP,
    ),
}
# These read the salt file the stack uploads: validated with a salt file in its place.
SALTED_CONFIG_SETS: dict[str, tuple[Path, ...]] = {
    "local-user-identity-hash": (BASE_CONFIG, USER_IDENTITY_HASH),
    "local-with-jsonl-folder-user-identity-hash": (
        BASE_CONFIG,
        JSONL_LOGS_CONFIG,
        USER_IDENTITY_HASH,
    ),
}
# Core's stable (1.x) modules ship with every 0.x release, minor 94 apart (v1.65.0 with v0.159.0,
# v1.56.0 with v0.150.0: the builder's DefaultStableOtelColVersion of those releases).
STABLE_MINOR_OFFSET = 94
CORE_MODULE_PREFIX = "go.opentelemetry.io/collector/"
COMPONENT_KINDS = ("receivers", "processors", "exporters", "extensions", "connectors")
ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)")
VALIDATE_TIMEOUT_SECONDS = 60


def expected_module_version(module: str, pinned: str, release: str) -> str:
    """The version on `pinned`'s line (core's stable 1.x, or 0.x) that ships with `release`."""
    _, minor, patch = release.split(".")
    if module.startswith(CORE_MODULE_PREFIX) and pinned.startswith("v1."):
        return f"v1.{int(minor) - STABLE_MINOR_OFFSET}.{patch}"
    return f"v{release}"


def test_manifest_pins_the_collector_image_release() -> None:
    release = image_version("otel-collector")
    manifest = build.load_manifest()

    versions = build.module_versions(manifest)

    assert versions, "the manifest lists no modules"
    mismatched = {
        module: version
        for module, version in versions.items()
        if version != expected_module_version(module, version, release)
    }
    assert mismatched == {}, f"modules not from collector release {release}"
    assert build.builder_version(manifest) == f"v{release}"


def test_every_shipped_collector_config_is_validated() -> None:
    shipped = set(COLLECTOR_CONFIG_DIR.glob("*.yaml"))

    config_sets = [*SHIPPED_CONFIG_SETS.values(), *SALTED_CONFIG_SETS.values()]
    validated = {path for config_set in config_sets for path in config_set}

    assert validated == shipped


def env_without_config_variables(configs: tuple[Path, ...]) -> dict[str, str]:
    """The environment minus every variable the configs read, so their defaults get checked."""
    referenced = {name for path in configs for name in ENV_REFERENCE.findall(path.read_text())}
    return {name: value for name, value in os.environ.items() if name not in referenced}


def run_validate(otelcol: Path, configs: tuple[Path, ...]) -> subprocess.CompletedProcess[str]:
    config_flags = [flag for path in configs for flag in ("--config", str(path))]
    return subprocess.run(
        [str(otelcol), "validate", *config_flags],
        env=env_without_config_variables(configs),
        capture_output=True,
        text=True,
        timeout=VALIDATE_TIMEOUT_SECONDS,
        check=False,
    )


def component_types(config: dict[str, Any]) -> dict[str, set[str]]:
    """Component types a config declares per kind (`otlp_http/loki` is of type `otlp_http`)."""
    return {
        kind: {name.split("/", 1)[0] for name in config.get(kind) or {}} for kind in COMPONENT_KINDS
    }


def binary_component_types(otelcol: Path) -> dict[str, set[str]]:
    listing = subprocess.run(
        [str(otelcol), "components"],
        capture_output=True,
        text=True,
        timeout=VALIDATE_TIMEOUT_SECONDS,
        check=True,
    )
    components = yaml.safe_load(listing.stdout)
    return {
        kind: {entry["name"] for entry in components.get(kind) or []} for kind in COMPONENT_KINDS
    }


@pytest.mark.collector
def test_binary_has_exactly_the_components_the_configs_use(otelcol: Path) -> None:
    used: dict[str, set[str]] = {kind: set() for kind in COMPONENT_KINDS}
    for path in COLLECTOR_CONFIG_DIR.glob("*.yaml"):
        for kind, types in component_types(yaml.safe_load(path.read_text())).items():
            used[kind] |= types

    built = binary_component_types(otelcol)

    assert built == used


@pytest.mark.collector
@pytest.mark.parametrize("configs", SHIPPED_CONFIG_SETS.values(), ids=SHIPPED_CONFIG_SETS.keys())
def test_shipped_config_validates(otelcol: Path, configs: tuple[Path, ...]) -> None:
    result = run_validate(otelcol, configs)

    assert result.returncode == 0, result.stderr


@pytest.mark.collector
@pytest.mark.parametrize("configs", SALTED_CONFIG_SETS.values(), ids=SALTED_CONFIG_SETS.keys())
def test_salted_config_validates(otelcol: Path, configs: tuple[Path, ...], tmp_path: Path) -> None:
    salt = tmp_path / "user-identity-salt"
    salt.write_text("validate-salt-0123456789")
    moved = []
    for path in configs:
        copy = tmp_path / path.name
        copy.write_text(path.read_text().replace(USER_IDENTITY_SALT_FILE, str(salt)))
        moved.append(copy)

    result = run_validate(otelcol, tuple(moved))

    assert USER_IDENTITY_SALT_FILE in USER_IDENTITY_HASH.read_text()
    assert result.returncode == 0, result.stderr


@pytest.mark.collector
def test_unknown_processor_option_fails_validate(otelcol: Path, tmp_path: Path) -> None:
    config = yaml.safe_load(BASE_CONFIG.read_text())
    config["processors"]["batch"]["send_batch_sise"] = 1024
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(config))

    result = run_validate(otelcol, (broken,))

    assert result.returncode != 0
    assert 'error reading configuration for "batch"' in result.stderr, result.stderr
    assert "has invalid keys: send_batch_sise" in result.stderr, result.stderr
