"""Command-line arguments every tool checks up front: one clear line and exit 2, no traceback."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit


class OneLineParser(argparse.ArgumentParser):
    """Argument errors as one line on stderr (argparse would add the usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def http_url(text: str) -> str:
    """An http(s) URL with a host, such as http://127.0.0.1:9090."""
    if "://" not in text:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a URL: write it with its scheme, such as http://{text}"
        )
    try:
        parts = urlsplit(text)
        _ = parts.port  # parsed on access: raises on a port that is not a number
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise argparse.ArgumentTypeError(f"{text!r} must start with http:// or https://")
    if not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} has no host")
    return text


def _number(kind: type[int] | type[float], text: str) -> float:
    try:
        value = kind(text)
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def at_least(minimum: float, kind: type[int] | type[float] = float) -> Callable[[str], float]:
    """A number no smaller than `minimum`."""

    def parse(text: str) -> float:
        value = _number(kind, text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text} must be at least {minimum:g}")
        return value

    parse.__name__ = "number"  # argparse names the type in its own messages
    return parse


def above(minimum: float, kind: type[int] | type[float] = float) -> Callable[[str], float]:
    """A number greater than `minimum`."""

    def parse(text: str) -> float:
        value = _number(kind, text)
        if value <= minimum:
            raise argparse.ArgumentTypeError(f"{text} must be greater than {minimum:g}")
        return value

    parse.__name__ = "number"
    return parse


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _creation_problem(path: Path) -> str | None:
    existing = _nearest_existing(path)
    if not existing.is_dir():
        return f"{path} cannot be created: {existing} is a file"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{path} cannot be written: no write permission in {existing}"
    return None


def directory_problem(path: Path) -> str | None:
    """Why `path` cannot be (or become) a folder this process writes into, or None."""
    if path.exists() and not path.is_dir():
        return f"{path} is a file, not a folder"
    return _creation_problem(path)


def file_problem(path: Path) -> str | None:
    """Why `path` cannot be written as a file, or None."""
    if path.is_dir():
        return f"{path} is a folder, not a file"
    if path.exists():
        return None if os.access(path, os.W_OK) else f"{path} cannot be written: no permission"
    return _creation_problem(path)


def output_directory(text: str) -> Path:
    """A folder to write into (created if missing)."""
    problem = directory_problem(Path(text))
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return Path(text)


def output_file(text: str) -> Path:
    """A file to write (its folder is created if missing)."""
    problem = file_problem(Path(text))
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return Path(text)
