"""CLI commands for runs: train, runs, stop, resume, evaluate (and the hidden worker entry point)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from seqlab.cli import experiments
from seqlab.config import CONFIG_CLASSES, TASKS, all_settings, cli_flag, declared, field_type
from seqlab.engine.labels import PREPARING
from seqlab.errors import SeqlabError
from seqlab.presets import PRESET_LABELS
from seqlab.runs import run_folder, states
from seqlab.runs.progress import steps_in_words
from seqlab.runs.states import RunState


def add_commands(commands, add_root_option) -> None:
    train = commands.add_parser("train", help="train a model in its own process (see flags)")
    train.add_argument("--preset", choices=list(PRESET_LABELS),  # every task's presets (e.g. tiny-transformer)
                       help="start from a named preset (other flags override it)")
    add_setting_flags(train)
    experiments.add_link_options(train)
    train.add_argument("--out", help="run folder to create (default: a new folder in the runs root)")
    train.add_argument("--detach", action="store_true", help="return at once; the run continues in the background")
    add_root_option(train)
    train.set_defaults(handler=command_train)

    listing = commands.add_parser("runs", help="list runs with status and best validation figures")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--leaderboard", action="store_true",
                         help="the Teacher page's leaderboard: the best run per corpus and cell, and whose it is")
    experiments.add_label_options(listing)
    add_root_option(listing)
    listing.set_defaults(handler=command_runs)

    for name, handler, text in (("stop", command_stop, "stop a run (within one batch; killed after 10 s)"),
                                ("resume", command_resume, "resume a stopped or interrupted run")):
        parser = commands.add_parser(name, help=text)
        parser.add_argument("run", help="run folder or run id")
        if name == "resume":
            parser.add_argument("--detach", action="store_true")
        add_root_option(parser)
        parser.set_defaults(handler=handler)

    evaluate = commands.add_parser("evaluate", help="print JSON metrics of a run on a corpus split")
    evaluate.add_argument("run", help="run folder or run id")
    evaluate.add_argument("--corpus", help="corpus to evaluate on (default: the run's own)")
    evaluate.add_argument("--split", default="validation", choices=["validation", "test", "all"])
    add_root_option(evaluate)
    evaluate.set_defaults(handler=command_evaluate)

    worker = commands.add_parser("worker")  # no help: hidden from the listing; started by the job runner
    worker.add_argument("run")
    add_root_option(worker)
    worker.set_defaults(handler=command_worker)


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per config field, spelled as the field (`--num-layers`), with its earlier spellings as aliases,
    its help and its choices from the field's declaration (seqlab/config.py); ranges are checked by the config."""
    for config_class in CONFIG_CLASSES:
        for name, declaration in declared(config_class).items():
            flags = [cli_flag(name), *declaration.flag_aliases]
            text = declaration.help.replace("%", "%%")
            if declaration.low is not None:
                text += f" [{declaration.low:g} to {declaration.high:g}]"
            if declaration.tasks != TASKS:
                text = f"{'/'.join(declaration.tasks)} only: {text}"
            kind = field_type(config_class, name)
            if kind is bool:
                parser.add_argument(*flags, dest=name, action="store_true", default=None, help=text)
            else:
                parser.add_argument(*flags, dest=name, type=kind, default=None, help=text,
                                    choices=list(declaration.choices) if declaration.choices else None)


def command_train(args: argparse.Namespace) -> None:
    from seqlab.runs.launch import start_training

    overrides = {name: getattr(args, name) for name in all_settings() if getattr(args, name) is not None}
    experiment = experiments.experiment_from_args(args, overrides)  # --link, then --preset and the flags on top
    if args.print_link:
        experiments.print_link(args, experiment)
        return
    model_config, train_config = experiments.configs_of(experiment)
    root = run_folder.runs_root(args.runs_root)
    run_dir = start_training(model_config, train_config, root, Path(args.out) if args.out else None)
    print(f"run folder: {run_dir}", file=sys.stderr)
    if not args.detach:
        follow(run_dir, root)


def follow(run_dir: Path, root: Path) -> None:
    """Draw a progress bar until the run ends; Ctrl-C stops the run (it stays resumable)."""
    from seqlab.runs import jobs

    interactive, last_printed, said = sys.stderr.isatty(), None, {"backend": "", "engine": ""}
    try:
        while True:
            jobs.schedule(root)
            status = jobs.reconcile(run_dir)
            for topic, line in (("backend", backend_line(status)), ("engine", engine_line(status))):
                if line not in ("", said[topic]):  # once when known (the engine also once while compiling)
                    said[topic] = line
                    print(("\r" if interactive else "") + line.ljust(100 if interactive else 0), file=sys.stderr)
            if interactive:  # one bar redrawn in place
                print("\r" + progress_line(status, run_dir), end="", file=sys.stderr, flush=True)
            else:  # a log file gets a line per state change and per tenth of progress, not a flood of bars
                mark = (status["state"], int(float(status.get("progress") or 0.0) * 10))
                if mark != last_printed:
                    print(progress_line(status, run_dir).rstrip(), file=sys.stderr, flush=True)
                    last_printed = mark
            if status["state"] in states.FINAL:
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping…", file=sys.stderr)
        status = jobs.stop(run_dir, wait=True)
    print(file=sys.stderr)
    if status["state"] == RunState.FAILED:
        raise SeqlabError(status.get("error") or "training failed", None, None)
    if status["state"] == RunState.INTERRUPTED:
        raise SeqlabError(f"The run was interrupted: {status.get('error')}", None,
                          f"`python -m seqlab resume {run_dir}`")
    best = status.get("best_val_loss")
    summary = f"{status['state']} at {steps_in_words(status)}"
    if best is not None:
        from seqlab.cli.listing import best_reading

        summary += f"; {best_reading(status, run_dir)}"
    print(summary, file=sys.stderr)


def backend_line(status: dict) -> str:
    """Which backend trains the run, and where ("backend: local (this computer)"); "" before it was launched."""
    from seqlab.runs import jobs

    where = jobs.where_it_runs(status)
    return f"backend: {where}" if where else ""


def engine_line(status: dict) -> str:
    """The run's engine in words ("engine: compiled CPU kernels", "engine: standard TensorFlow (no C++ compiler
    found …)", "engine: GPU"), "preparing fast kernels (once, ~20 s)…" while the worker builds them, "" before."""
    engine, note = status.get("engine"), status.get("engine_note")
    if not engine:
        return ""
    if engine == PREPARING:
        return f"{PREPARING}…"
    return f"engine: {engine}" + (f" ({note})" if note else "")


def progress_line(status: dict, run_dir: Path) -> str:
    """One progress bar: state, share of the plan, `step 123 of ≈640 (time budget)`, the latest loss, speed, ETA
    (the plan is the worker's, in status.json: the same figures as the app's)."""
    state = status["state"]
    if state == RunState.QUEUED:
        return f"queued (position {status.get('queue_position') or '?'})" + " " * 40
    progress = float(status.get("progress") or 0.0)
    filled = int(progress * 30)
    bar = "█" * filled + "·" * (30 - filled)
    steps, _ = run_folder.read_metrics(run_dir) if state in states.LIVE else ([], [])
    last = steps[-1] if steps else {}
    eta = status.get("eta_seconds")
    eta_text = f"ETA {int(eta) // 60}:{int(eta) % 60:02d}" if eta is not None else "ETA -:--"
    loss = f"loss {last['loss']:.3f} " if last else ""
    loss += f"acc {last['accuracy']:.3f} " if "accuracy" in last else ""  # a forecaster has none
    return (f"{state:<9} |{bar}| {progress:5.1%} {steps_in_words(status)} "
            f"{loss}{(status.get('tokens_per_second') or 0):,.0f} tok/s {eta_text}   ")


def command_runs(args: argparse.Namespace) -> None:
    from seqlab.cli.listing import print_leaderboard, print_runs
    from seqlab.runs import jobs

    if experiments.change_label(args):
        return
    listed = jobs.list_runs(run_folder.runs_root(args.runs_root))
    if args.leaderboard:
        print_leaderboard(listed, args.json)
        return
    if args.json:
        print(json.dumps(listed, indent=2, default=str))
        return
    if not listed:
        print("no runs yet: start one with `python -m seqlab train`")
        return
    print_runs(listed)


def own_run(run: str, root: Path) -> Path:
    """A run of this runs root (a folder in it, or one `train --out` linked into it): stop and resume never adopt
    a folder from elsewhere, so they cannot link a stranger's folder into the root or signal its process."""
    from seqlab.infer.loading import check_run_location

    return check_run_location(run_folder.resolve_run(run, root), root)


def command_stop(args: argparse.Namespace) -> None:
    from seqlab.runs import jobs

    root = run_folder.runs_root(args.runs_root)
    status = jobs.stop(own_run(args.run, root), wait=True)
    print(f"{status['state']} at step {status.get('step', 0)}")


def command_resume(args: argparse.Namespace) -> None:
    from seqlab.runs import jobs

    root = run_folder.runs_root(args.runs_root)
    run_dir = own_run(args.run, root)
    jobs.resume(run_dir, root)
    print(f"resuming {run_dir}", file=sys.stderr)
    if not args.detach:
        follow(run_dir, root)


def command_evaluate(args: argparse.Namespace) -> None:
    from seqlab.infer.evaluation import evaluate_run

    run_dir = run_folder.resolve_run(args.run, args.runs_root)
    print(json.dumps(evaluate_run(run_dir, args.corpus, args.split, root=args.runs_root), indent=2))


def command_worker(args: argparse.Namespace) -> None:
    """The training process itself: train, then let the next queued run start."""
    from seqlab.runs import jobs
    from seqlab.runs.worker import train_run

    try:
        train_run(Path(args.run))
    finally:
        jobs.schedule(run_folder.runs_root(args.runs_root))
