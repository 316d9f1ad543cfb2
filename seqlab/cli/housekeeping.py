"""`python -m seqlab cleanup --older-than 30d [--apply]`: the operator's housekeeping of the whole runs root.

A dry run by default: it prints what would go (uploads no run uses, runs untouched for that long that are not
queued or training), with sizes and a total, and removes it only with --apply (seqlab/runs/cleanup.py).
"""

from __future__ import annotations

import argparse
import sys

from seqlab.errors import SeqlabError


def add_commands(commands, add_root_option) -> None:
    cleanup = commands.add_parser("cleanup", help="remove unused uploads and old finished runs (dry run unless "
                                  "--apply)")
    cleanup.add_argument("--older-than", required=True, metavar="AGE",
                         help="only what nothing touched for this long: 30d, 12h, 90m or 45s")
    cleanup.add_argument("--apply", action="store_true", help="really remove them (default: only list them)")
    add_root_option(cleanup)
    cleanup.set_defaults(handler=command_cleanup)


def format_size(size: float) -> str:
    unit = "B"
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            break
        size /= 1000
    return f"{size:,.0f} B" if unit == "B" else f"{size:,.1f} {unit}"


def format_age(seconds: float) -> str:
    for unit, length in (("days", 86_400), ("hours", 3_600), ("minutes", 60)):
        if seconds >= length:
            return f"{seconds / length:,.0f} {unit}"
    return f"{seconds:,.0f} seconds"


def describe(item, root) -> str:
    """One line of the listing: kind, what, size, age."""
    if item.kind == "upload":
        what = str(item.path.relative_to(root)) if item.path.is_relative_to(root) else str(item.path)
    elif item.linked_to is not None:
        what = f"{item.path.name} (only the link; its folder {item.linked_to} is kept)"
    else:
        what = item.path.name
    return f"  {item.kind:<6}  {format_size(item.size):>9}  {format_age(item.age_seconds) + ' old':>14}  {what}"


def _summary(items: list, total: int) -> str:
    runs = sum(item.kind == "run" for item in items)
    uploads = len(items) - runs
    return (f"{runs} run{'s' if runs != 1 else ''} and {uploads} upload{'s' if uploads != 1 else ''}, "
            f"{format_size(total)} in all")


def command_cleanup(args: argparse.Namespace) -> None:
    from seqlab.runs import cleanup

    age = cleanup.parse_duration(args.older_than)  # before anything is read: bad input changes nothing
    plan = cleanup.plan_cleanup(age, args.runs_root)
    if not plan.items:
        print(f"Nothing to remove in {plan.root}: no unused upload or finished run untouched for "
              f"{args.older_than.strip()}.")
        return
    if not args.apply:
        print(f"Would remove from {plan.root} (untouched for {args.older_than.strip()}; a dry run):")
        for item in plan.items:
            print(describe(item, plan.root))
        print(f"{_summary(plan.items, plan.total_size)}. Run again with --apply to remove them.")
        return
    removed, problems = cleanup.apply_plan(plan)
    print(f"Removed from {plan.root}:" if removed else f"Removed nothing from {plan.root}.")
    for item in removed:
        print(describe(item, plan.root))
    if removed:
        print(f"{_summary(removed, sum(item.size for item in removed))}.")
    sys.stdout.flush()
    if problems:
        raise SeqlabError(f"{len(problems)} of {len(plan.items)} could not be removed: {problems[0]}",
                          "runs that are not queued or training, in a folder you can write",
                          "look at the reason, then run cleanup again")
