"""CLI commands for runs: train, runs, stop, resume, evaluate (and the hidden worker entry point)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from seqlab import runs
from seqlab.errors import SeqlabError

# flag -> config field; every field of ModelConfig and TrainConfig is reachable from the command line
TRAIN_FLAGS = {
    "--corpus": ("corpus", str, "built-in corpus name or path of a .txt/.csv/.tsv file"),
    "--cell": ("cell", str, "recurrent cell: simple_rnn, lstm or gru"),
    "--layers": ("num_layers", int, "stacked recurrent layers (1–4)"),
    "--units": ("units", int, "hidden units per layer"),
    "--embedding-dim": ("embedding_dim", int, "embedding size per character/word"),
    "--dropout": ("dropout", float, "dropout between layers (0–0.8)"),
    "--weight-dropout": ("weight_dropout", float, "share of each recurrent layer's state-to-state weights dropped "
                         "per training batch (DropConnect, 0–0.8)"),
    "--vocabulary-size": ("vocabulary_size", int, "classify: most frequent words kept"),
    "--pooling": ("pooling", str, "classify: verdict from the last state (last) or max+mean over words (max_mean)"),
    "--word-pairs": ("word_pairs", int, "classify: a second reader, a bag of words and word pairs hashed into "
                     "this many buckets, averaged with the recurrent reader's verdict (0: off)"),
    "--sequence-length": ("sequence_length", int, "generate: characters per window; classify: words per review"),
    "--batch-size": ("batch_size", int, "sequences per step"),
    "--epochs": ("epochs", int, "passes over the training data"),
    "--max-steps": ("max_steps", int, "stop after this many steps (0: no cap)"),
    "--time-budget": ("time_budget_seconds", float, "stop after this many seconds of training (0: none)"),
    "--learning-rate": ("learning_rate", float, "Adam learning rate"),
    "--schedule": ("learning_rate_schedule", str, "learning rate over the run: constant or cosine (down to 5%% of it)"),
    "--weight-average": ("weight_average_steps", int, "validate and keep a moving average of the weights over about "
                         "this many steps (0: off, the last step's weights)"),
    "--precision": ("precision", str, "float32, bfloat16 (mixed precision) or auto (bfloat16 where the CPU has it)"),
    "--clip": ("clip", str, "gradient clipping: none, norm (global norm) or value"),
    "--clip-threshold": ("clip_threshold", float, "clipping threshold"),
    "--seed": ("seed", int, "random seed"),
    "--text-column": ("text_column", str, "classify CSV/TSV: text column (default: detected)"),
    "--label-column": ("label_column", str, "classify CSV/TSV: label column (default: detected)"),
}
FINAL_STATES = ("finished", "stopped", "failed", "interrupted")


def add_commands(commands, add_root_option) -> None:
    train = commands.add_parser("train", help="train a model in its own process (see flags)")
    train.add_argument("--task", choices=["generate", "classify"], default="generate")
    train.add_argument("--preset", choices=["quick-demo", "balanced", "best-quality"],
                       help="start from a named preset (other flags override it)")
    for flag, (_, kind, text) in TRAIN_FLAGS.items():
        train.add_argument(flag, type=kind, default=None, help=text)
    train.add_argument("--bidirectional", action="store_true", default=None, help="classify: read both directions")
    train.add_argument("--out", help="run folder to create (default: a new folder in the runs root)")
    train.add_argument("--detach", action="store_true", help="return at once; the run continues in the background")
    add_root_option(train)
    train.set_defaults(handler=command_train)

    listing = commands.add_parser("runs", help="list runs with status and best validation figures")
    listing.add_argument("--json", action="store_true")
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


def command_train(args: argparse.Namespace) -> None:
    from seqlab.config import default_configs, preset_configs
    from seqlab.launch import start_training

    overrides = {field: getattr(args, flag[2:].replace("-", "_")) for flag, (field, _, _) in TRAIN_FLAGS.items()}
    overrides["bidirectional"] = args.bidirectional
    overrides = {key: value for key, value in overrides.items() if value is not None}
    if args.preset:
        model_config, train_config = preset_configs(args.task, args.preset, **overrides)
    else:
        model_config, train_config = default_configs(args.task, **overrides)
    root = runs.runs_root(args.runs_root)
    run_dir = start_training(model_config, train_config, root, Path(args.out) if args.out else None)
    print(f"run folder: {run_dir}", file=sys.stderr)
    if not args.detach:
        follow(run_dir, root)


def follow(run_dir: Path, root: Path) -> None:
    """Draw a progress bar until the run ends; Ctrl-C stops the run (it stays resumable)."""
    from seqlab import jobs

    interactive, last_printed = sys.stderr.isatty(), None
    try:
        while True:
            jobs.schedule(root)
            status = jobs.reconcile(run_dir)
            if interactive:  # one bar redrawn in place
                print("\r" + progress_line(status, run_dir), end="", file=sys.stderr, flush=True)
            else:  # a log file gets a line per state change and per tenth of progress, not a flood of bars
                mark = (status["state"], int(float(status.get("progress") or 0.0) * 10))
                if mark != last_printed:
                    print(progress_line(status, run_dir).rstrip(), file=sys.stderr, flush=True)
                    last_printed = mark
            if status["state"] in FINAL_STATES:
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping…", file=sys.stderr)
        status = jobs.stop(run_dir, wait=True)
    print(file=sys.stderr)
    if status["state"] == "failed":
        raise SeqlabError(status.get("error") or "training failed", None, None)
    if status["state"] == "interrupted":
        raise SeqlabError(f"The run was interrupted: {status.get('error')}", None,
                          f"`python -m seqlab resume {run_dir}`")
    best = status.get("best_val_loss")
    summary = f"{status['state']} at step {status.get('step', 0)}"
    if best is not None:
        summary += f"; best validation loss {best:.4f}, accuracy {status.get('best_val_accuracy') or 0:.3f}"
    print(summary, file=sys.stderr)


def progress_line(status: dict, run_dir: Path) -> str:
    state = status["state"]
    if state == "queued":
        return f"queued (position {status.get('queue_position') or '?'})" + " " * 40
    progress = float(status.get("progress") or 0.0)
    filled = int(progress * 30)
    bar = "█" * filled + "·" * (30 - filled)
    steps, _ = runs.read_metrics(run_dir) if state in ("running", "stopping") else ([], [])
    last = steps[-1] if steps else {}
    eta = status.get("eta_seconds")
    eta_text = f"ETA {int(eta) // 60}:{int(eta) % 60:02d}" if eta is not None else "ETA -:--"
    loss = f"loss {last['loss']:.3f} acc {last['accuracy']:.3f} " if last else ""
    return (f"{state:<9} |{bar}| {progress:5.1%} step {status.get('step', 0)}/{status.get('total_steps', '?')} "
            f"{loss}{(status.get('tokens_per_second') or 0):,.0f} tok/s {eta_text}   ")


def command_runs(args: argparse.Namespace) -> None:
    from seqlab import jobs

    listed = jobs.list_runs(runs.runs_root(args.runs_root))
    if args.json:
        print(json.dumps(listed, indent=2, default=str))
        return
    if not listed:
        print("no runs yet: start one with `python -m seqlab train`")
        return
    print(f"{'run':<44} {'state':<11} {'task':<8} {'corpus':<18} {'model':<18} {'step':>7} {'val loss':>8} "
          f"{'val acc':>7}")
    for run in listed:
        status, model, train = run["status"], run.get("model") or {}, run.get("train") or {}
        shape = f"{model.get('cell', '?')} {model.get('num_layers', '?')}×{model.get('units', '?')}" if model else "?"
        loss, accuracy = status.get("best_val_loss"), status.get("best_val_accuracy")
        print(f"{run['id'][:44]:<44} {status['state']:<11} {model.get('task', '?'):<8} "
              f"{Path(str(train.get('corpus', '?'))).name[:18]:<18} {shape:<18} {status.get('step', 0):>7} "
              f"{'' if loss is None else f'{loss:.4f}':>8} {'' if accuracy is None else f'{accuracy:.3f}':>7}")
        if run.get("error") and status["state"] in ("damaged", "failed", "interrupted"):
            print(f"    {run['error'] or status.get('error')}")


def command_stop(args: argparse.Namespace) -> None:
    from seqlab import jobs

    status = jobs.stop(runs.resolve_run(args.run, args.runs_root), wait=True)
    print(f"{status['state']} at step {status.get('step', 0)}")


def command_resume(args: argparse.Namespace) -> None:
    from seqlab import jobs

    root = runs.runs_root(args.runs_root)
    run_dir = runs.resolve_run(args.run, root)
    jobs.resume(run_dir, root)
    print(f"resuming {run_dir}", file=sys.stderr)
    if not args.detach:
        follow(run_dir, root)


def command_evaluate(args: argparse.Namespace) -> None:
    from seqlab.evaluation import evaluate_run

    run_dir = runs.resolve_run(args.run, args.runs_root)
    print(json.dumps(evaluate_run(run_dir, args.corpus, args.split, root=args.runs_root), indent=2))


def command_worker(args: argparse.Namespace) -> None:
    """The training process itself: train, then let the next queued run start."""
    from seqlab import jobs
    from seqlab.training import train_run

    try:
        train_run(Path(args.run))
    finally:
        jobs.schedule(runs.runs_root(args.runs_root))
