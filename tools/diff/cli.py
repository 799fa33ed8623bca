"""`python -m tools.diff`: the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.arguments import OneLineParser, output_file
from tools.diff.model import Side
from tools.diff.report import compare, render
from tools.diff.sources import SourceError, default_base, load_plans, plan_refs, resolve


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = OneLineParser(
        prog="python -m tools.diff",
        description="Print, as Markdown, what a change does: infrastructure replaced or "
        "deleted (destructive first), dashboard panels and queries, alert thresholds and "
        "receivers, stack settings. Each side is planned offline with tools.synth; no "
        "Grafana, Pulumi CLI, state or credentials are needed.",
    )
    parser.add_argument(
        "base",
        nargs="?",
        help="git ref of the code before the change (default: the merge base of HEAD with main)",
    )
    parser.add_argument(
        "head", nargs="?", help="git ref of the code after the change (default: the working tree)"
    )
    parser.add_argument(
        "--plans",
        nargs=2,
        type=Path,
        metavar=("BASE", "HEAD"),
        help="compare two offline plans instead: tools.synth JSON files, or folders of "
        "<stack>.json such as tests/snapshots",
    )
    parser.add_argument("--out", type=output_file, help="write the Markdown here instead of stdout")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="plan every commit afresh instead of reusing .cache/diff (keyed by the commit's "
        "tree and the installed packages)",
    )
    args = parser.parse_args(argv)
    if args.plans and (args.base or args.head):
        parser.error("give git refs or --plans, not both")
    return args


def label(ref: str | None, commit: str | None) -> str:
    if ref is None:
        return "the working tree"
    if commit and commit.startswith(ref) and len(ref) >= 7:
        return f"`{commit[:10]}`"  # a commit id: short is enough
    return f"`{ref}` ({commit[:10]})" if commit else f"`{ref}`"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.plans:
            base: Side = load_plans(args.plans[0])
            head: Side = load_plans(args.plans[1])
            labels = (f"`{args.plans[0]}`", f"`{args.plans[1]}`")
        else:
            base_ref = args.base or default_base()
            base, head = plan_refs(base_ref, args.head, use_cache=not args.no_cache)
            base_label = (
                label(args.base, resolve(args.base))
                if args.base
                else f"the merge base with main ({base_ref[:10]})"
            )
            head_label = label(args.head, resolve(args.head) if args.head else None)
            labels = (base_label, head_label)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stacks = sorted(set(base) | set(head))
    notes: tuple[str, ...] = ()
    if any(plan.config is None for plan in [*base.values(), *head.values()]):
        notes = ("Settings are not compared: plan files carry no stack config (git refs do).",)
    text = render(compare(base, head), labels[0], labels[1], stacks, notes=notes)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
