"""The stack file itself, read strictly: `stacks/Pulumi.<stack>.yaml` before any setting in it.

Pulumi ignores what it does not know: a misspelt namespace (`llm-o1ly:target`), a misspelt
`config:` or a key written twice would silently fall back to defaults. This check refuses them,
and reports YAML and encoding errors with the file and line, before any resource is declared.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from components.settings import PROJECT, SettingsError

STACKS_DIR = Path(__file__).resolve().parent.parent / "stacks"
# Top-level keys of a Pulumi stack file (pulumi/pkg/workspace: ProjectStack).
STACK_FILE_KEYS = ("config", "encryptionsalt", "encryptedkey", "secretsprovider", "environment")
# Config namespaces this program reads: its own, Pulumi's, and its providers'.
CONFIG_NAMESPACES = (PROJECT, "pulumi", "docker", "grafana", "random")


class StackFileError(SettingsError):
    """The stack file cannot be read as Pulumi would, or holds keys nothing reads."""


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key written twice in one mapping."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be plain text", key_node.start_mark
            )
        line = key_node.start_mark.line + 1
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key!r} is written twice in one mapping (first on line {seen[key]}); "
                "the first block would be silently lost",
                key_node.start_mark,
            )
        seen[key] = line
    return loader.construct_mapping(node, deep=True)


def _kind(value: Any) -> str:
    """How a YAML value reads to the person who wrote it."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    return "text" if isinstance(value, str) else "empty"


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(STACKS_DIR.parent))
    except ValueError:
        return str(path)


def _closest(word: str, choices: tuple[str, ...]) -> str:
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean `{match[0]}`?)" if match else ""


def parse_stack_file(text: bytes, path: Path) -> dict[str, Any]:
    """A stack file's bytes -> its document, or StackFileError naming the file, line and key."""
    where = _shown(path)
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = text[: exc.start].count(b"\n") + 1
        raise StackFileError(
            f"{where}: line {line}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from None
    try:
        document = yaml.load(decoded, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        kind = "" if isinstance(exc, yaml.constructor.ConstructorError) else "invalid YAML: "
        raise StackFileError(f"{where}: {at}{kind}{problem}") from None
    except yaml.YAMLError as exc:
        raise StackFileError(f"{where}: invalid YAML: {exc}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise StackFileError(
            f"{where}: must be a mapping with a `config:` key, not {_kind(document)}"
        )
    check_stack_document(document, where)
    return document


def check_stack_document(document: Mapping[Any, Any], where: str) -> None:
    """Every top-level key and config namespace is one Pulumi or this program reads."""
    for key in document:
        if key not in STACK_FILE_KEYS:
            raise StackFileError(
                f"{where}: {key}: unknown top-level key{_closest(str(key), STACK_FILE_KEYS)}; "
                f"allowed: {', '.join(STACK_FILE_KEYS)}"
            )
    config = document.get("config")
    if config is None:
        return
    if not isinstance(config, dict):
        raise StackFileError(
            f"{where}: config: must be a mapping of `{PROJECT}:<key>: <value>` lines, "
            f"not {_kind(config)}"
        )
    for key in config:
        if not isinstance(key, str) or not key.strip():
            raise StackFileError(f"{where}: config: {key!r}: a config key must be text")
        namespace = key.split(":", 1)[0] if ":" in key else PROJECT
        name = key.split(":", 1)[1] if ":" in key else key
        if namespace not in CONFIG_NAMESPACES:
            raise StackFileError(
                f"{where}: config: {key}: unknown namespace `{namespace}:`"
                f"{_closest(namespace, CONFIG_NAMESPACES)}; allowed: "
                f"{', '.join(f'{n}:' for n in CONFIG_NAMESPACES)}"
            )
        if not name:
            raise StackFileError(f"{where}: config: {key}: a key needs a name after `:`")


def read_stack_file(path: Path) -> dict[str, Any]:
    """Read and check one stack file."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise StackFileError(f"{_shown(path)}: cannot read: {exc.strerror}") from None
    return parse_stack_file(text, path)


def stack_file_name(stack: str) -> str:
    return f"stacks/Pulumi.{stack}.yaml"


def check_stack_file(stack: str) -> None:
    """Check `stacks/Pulumi.<stack>.yaml` when it exists (config may also come from elsewhere)."""
    path = STACKS_DIR.parent / stack_file_name(stack)
    if path.is_file():
        read_stack_file(path)
