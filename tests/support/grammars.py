"""LogQL and TraceQL syntax checks with Grafana's own Lezer grammars.

tests/grammars/package.json pins @grafana/lezer-logql 0.4.2 (with @lezer/lr 1.4.10 exactly: npm
otherwise resolves 0.3.0) and @grafana/lezer-traceql 1.0.0. They are installed with `npm ci` into
.cache/grammars (ignored by git); tests/grammars/check.mjs parses each query and reports the
first error node's position.
"""

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from tests.support.external import REPO_ROOT, find_tool
from tools.querylab.prometheus import QueryContext, interpolate
from tools.querylab.walker import Query

GRAMMARS_SOURCE = REPO_ROOT / "tests" / "grammars"
GRAMMARS_CACHE = REPO_ROOT / ".cache" / "grammars"
NODE_HINT = "install Node.js and npm (apt-get install -y nodejs npm)"
_INPUTS = ("package.json", "package-lock.json", "check.mjs")


@dataclass(frozen=True)
class ParseResult:
    ok: bool
    position: int
    message: str


class QuerySyntaxError(AssertionError):
    """A query the grammar rejects; the message names the language, position and text."""


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in _INPUTS:
        digest.update((GRAMMARS_SOURCE / name).read_bytes())
    return digest.hexdigest()


def install_grammars() -> Path:
    """`npm ci` the pinned grammars into .cache/grammars once per change of the inputs."""
    stamp = GRAMMARS_CACHE / ".installed"
    fingerprint = _fingerprint()
    if stamp.exists() and stamp.read_text(encoding="utf-8") == fingerprint:
        return GRAMMARS_CACHE
    npm = find_tool("npm", NODE_HINT)
    shutil.rmtree(GRAMMARS_CACHE, ignore_errors=True)
    GRAMMARS_CACHE.mkdir(parents=True)
    for name in _INPUTS:
        shutil.copy2(GRAMMARS_SOURCE / name, GRAMMARS_CACHE / name)
    result = subprocess.run(
        [npm, "ci", "--prefix", str(GRAMMARS_CACHE), "--no-audit", "--no-fund", "--loglevel=error"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"npm ci failed in {GRAMMARS_CACHE}: {result.stderr.strip()}")
    stamp.write_text(fingerprint, encoding="utf-8")
    return GRAMMARS_CACHE


def parse_queries(language: str, queries: Sequence[str]) -> list[ParseResult]:
    """Parse many queries of one language with one node process."""
    if not queries:
        return []
    node = find_tool("node", NODE_HINT)
    folder = install_grammars()
    requests = [{"language": language, "query": query} for query in queries]
    result = subprocess.run(
        [node, str(folder / "check.mjs")],
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"grammar check failed to run: {result.stderr.strip()}")
    return [ParseResult(**entry) for entry in json.loads(result.stdout)]


def check_syntax(language: str, query: str) -> None:
    """Raise QuerySyntaxError with the parser's message when `query` does not parse."""
    (result,) = parse_queries(language, [query])
    if not result.ok:
        raise QuerySyntaxError(result.message)


def check_logql(query: str) -> None:
    check_syntax("logql", query)


def check_traceql(query: str) -> None:
    check_syntax("traceql", query)


def check_grammar(queries: Iterable[Query]) -> list[str]:
    """LogQL/TraceQL syntax problems, one message per failing query (Grafana variables filled in
    with the values a 24 h dashboard would send)."""
    problems = []
    context = QueryContext(start=0.0, end=86_400.0)
    for kind, language in (("loki", "logql"), ("tempo", "traceql")):
        selected = [query for query in queries if query.kind == kind]
        texts = [
            interpolate(query.expr, replace(context, variables=query.variables))
            for query in selected
        ]
        for query, result in zip(selected, parse_queries(language, texts), strict=True):
            if not result.ok:
                problems.append(f"{query.where}: {result.message}")
    return problems
