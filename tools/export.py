"""Export what the program declares as plain files, for any Grafana or for promtool.

python -m tools.export dashboards DIR   # one <uid>.json per dashboard (what Pulumi applies)
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path


def export_dashboards(directory: Path) -> list[Path]:
    """Write each dashboard's JSON model as DIR/<uid>.json; returns the files written."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from dashboards import render_all

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for uid, model in sorted(render_all().items()):
        path = directory / f"{uid}.json"
        path.write_text(json.dumps(model, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.export",
        description="Write the program's Grafana content as plain files.",
    )
    kinds = parser.add_subparsers(dest="kind", required=True)
    dashboards = kinds.add_parser(
        "dashboards",
        help="one <uid>.json per dashboard: import into any Grafana that has Prometheus, Loki "
        "and Tempo datasources (each dashboard asks which to use; defaults are the UIDs "
        "prometheus, loki, tempo)",
    )
    dashboards.add_argument("directory", type=Path, help="where to write the files")
    args = parser.parse_args(argv)
    for path in export_dashboards(args.directory):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
