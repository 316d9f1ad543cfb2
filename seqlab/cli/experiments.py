"""The CLI's side of shareable experiments and run names: what the Train page's link and run header offer.

`seqlab train --link "<link>"` trains what an experiment link describes (flags given beside it win), and
`seqlab train --print-link` prints the link for the flags instead of training, so a terminal and a browser hand
experiments to each other. `seqlab runs --rename RUN NAME` and `--note RUN TEXT` change a run's human name and
note (seqlab/runs/names.py), as its owner does on the Train page.
"""

from __future__ import annotations

import argparse
import sys

from seqlab.report.experiment_link import DEFAULT_APP_URL, Experiment, encode, full_link, read_link


def add_link_options(train: argparse.ArgumentParser) -> None:
    train.add_argument("--link", metavar="LINK", help="start from an experiment link copied from the Train page "
                       "(the whole address or its ?query); flags given beside it override it")
    train.add_argument("--print-link", action="store_true",
                       help="print the experiment link for these settings and exit, without training")
    train.add_argument("--app-url", default=DEFAULT_APP_URL,
                       help=f"the app's address, for --print-link (default {DEFAULT_APP_URL})")


def experiment_from_args(args: argparse.Namespace, overrides: dict) -> Experiment:
    """Task, corpus, preset and settings from --link (if any) with the flags on top; the link's refused values
    are printed on stderr and left out, as the Train page shows them above the form."""
    experiment = read_link(args.link) if args.link else Experiment(preset="")
    for problem in experiment.problems:
        print(f"warning: {problem}", file=sys.stderr)
    overrides = dict(overrides)
    if "task" in overrides and overrides["task"] != experiment.task:
        experiment = Experiment(task=overrides["task"], preset="")  # another task: the link's values do not apply
    experiment.task = overrides.pop("task", experiment.task)
    experiment.corpus = overrides.pop("corpus", experiment.corpus)
    experiment.preset = args.preset or experiment.preset
    experiment.overrides = {**experiment.overrides, **overrides}
    return experiment


def configs_of(experiment: Experiment):
    """The validated configs; without a preset (no --preset, no link) the task's defaults, as before links."""
    from seqlab.presets import default_configs

    if experiment.preset:
        return experiment.configs()
    corpus = {"corpus": experiment.corpus} if experiment.corpus else {}
    return default_configs(experiment.task, **corpus, **experiment.overrides)


def print_link(args: argparse.Namespace, experiment: Experiment) -> None:
    model, train = configs_of(experiment)
    query, corpus_shared = encode(model, train, experiment.preset or "quick-demo")
    print(full_link(args.app_url, query))
    if not corpus_shared:
        print(f"note: the corpus {train.corpus} is not in the link (only built-in corpora travel); whoever opens it "
              "starts on the task's built-in corpus", file=sys.stderr)


def add_label_options(listing: argparse.ArgumentParser) -> None:
    listing.add_argument("--rename", nargs=2, metavar=("RUN", "NAME"),
                         help="give a run a new human name (up to 40 characters), e.g. `--rename lstm-hamlet-2 "
                              "'clipping off'`")
    listing.add_argument("--note", nargs=2, metavar=("RUN", "TEXT"),
                         help="write a run's note (up to 500 characters; '' clears it)")


def change_label(args: argparse.Namespace) -> bool:
    """Rename and/or note a run if asked (True: done, nothing to list). The run is named by id, folder or name."""
    if not (args.rename or args.note):
        return False
    from seqlab.cli.training import own_run
    from seqlab.runs import run_folder
    from seqlab.runs.names import check_name, check_note, write_label

    root = run_folder.runs_root(args.runs_root)
    runs = {args.rename[0] if args.rename else None, args.note[0] if args.note else None} - {None}
    name = check_name(args.rename[1]) if args.rename else None  # both checked before anything is written
    note = check_note(args.note[1]) if args.note else None
    for run in runs:
        run_dir = own_run(find_run(run, root), root)
        label = write_label(run_dir, name=name if args.rename and args.rename[0] == run else None,
                            note=note if args.note and args.note[0] == run else None)
        print(f"{run_dir.name}: {label['name']}" + (f" — {label['note']}" if label["note"] else ""))
    return True


def find_run(run: str, root) -> str:
    """A run id or folder as given; a human name is looked up among the root's runs (it must name exactly one)."""
    from seqlab.errors import SeqlabError
    from seqlab.runs.names import run_name

    if (root / run).is_dir() or "/" in run:
        return run
    matches = [path.name for path in sorted(root.iterdir()) if path.is_dir() and run_name(path) == run]
    if len(matches) > 1:
        raise SeqlabError(f"{len(matches)} runs are named '{run}'", "a name that picks one run",
                          f"use the run id instead (one of {', '.join(matches[:3])})")
    return matches[0] if matches else run
