"""CLI commands for the lessons: `race` (SimpleRNN, LSTM, GRU and a tiny Transformer on one corpus) and `probe
memory` (how far back each cell remembers). Both start ordinary runs through the job runner and, unless told not
to, wait for them, printing a line per change, then the verdict or the table a person can paste into
docs/lessons.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from seqlab.errors import SeqlabError
from seqlab.runs import run_folder, states
from seqlab.runs.storage import write_text_atomic


def add_commands(commands, add_root_option) -> None:
    from seqlab.lessons import memory_probe, race

    racing = commands.add_parser("race", help="train SimpleRNN, LSTM, GRU and a tiny Transformer on one corpus for "
                                              "the same time")
    racing.add_argument("--corpus", default="tiny-shakespeare", help="built-in name or path (default: "
                        "tiny-shakespeare)")
    racing.add_argument("--budget", type=float, default=60.0, help="seconds of training per cell (default 60)")
    racing.add_argument("--equal", choices=race.EQUAL, default="time",
                        help="time: same units and seconds; parameters: units per cell chosen so that the sizes "
                             "match the LSTM's (each still trains --budget seconds)")
    racing.add_argument("--units", type=int, help="the base units (default: the quick-demo preset's)")
    add_waiting_options(racing)
    add_root_option(racing)
    racing.set_defaults(handler=command_race)

    probe = commands.add_parser("probe", help="experiments that probe what the cells can learn")
    probes = probe.add_subparsers(dest="probe", required=True, metavar="PROBE", parser_class=type(probe))
    memory = probes.add_parser("memory", help="train the three cells to recall a character N steps back")
    memory.add_argument("--distances", default=",".join(map(str, memory_probe.DEFAULT_DISTANCES)),
                        help="the N to try, comma-separated (default 5,10,20,40)")
    memory.add_argument("--kind", choices=["copy", "brackets"], default="copy",
                        help="copy: repeat a letter; brackets: close the bracket opened (default copy)")
    memory.add_argument("--budget", type=float, default=memory_probe.DEFAULT_BUDGET_SECONDS,
                        help=f"seconds of training per run (default {memory_probe.DEFAULT_BUDGET_SECONDS:g})")
    memory.add_argument("--out", help="also write the table as JSON to this file")
    add_waiting_options(memory)
    add_root_option(memory)
    memory.set_defaults(handler=command_probe_memory)


def add_waiting_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--show", metavar="ID", help="start nothing: report the experiment ID started earlier (e.g. "
                        "race-2, probe-1; the Lesson page's 'Showing'), waiting for it unless --no-wait")
    parser.add_argument("--no-wait", action="store_true", help="start the runs and return at once")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def wait_for_runs(run_dirs: list[str], root: Path, label: str) -> None:
    """Move the queue until every run has ended, printing a line per state change and per quarter of progress;
    Ctrl-C stops the runs (they stay resumable)."""
    from seqlab.report.plain_words import cell_name
    from seqlab.runs import jobs

    said: dict[str, tuple] = {}
    try:
        while True:
            jobs.schedule(root)
            ended = 0
            for run_dir in map(Path, run_dirs):
                status = jobs.reconcile(run_dir)
                ended += status["state"] in states.FINAL
                mark = (status["state"], int(float(status.get("progress") or 0.0) * 4))
                if said.get(str(run_dir)) != mark:
                    said[str(run_dir)] = mark
                    model, _ = run_folder.read_configs(run_dir)
                    print(f"[{label}] {cell_name(model.cell)} on {Path(_corpus(run_dir)).name}: {status['state']} "
                          f"{float(status.get('progress') or 0.0):.0%}", file=sys.stderr, flush=True)
            if ended == len(run_dirs):
                return
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping the runs…", file=sys.stderr)
        for run_dir in run_dirs:
            jobs.stop(Path(run_dir), root=root)
        raise


def _corpus(run_dir: Path) -> str:
    return run_folder.read_configs(run_dir)[1].corpus


def command_race(args: argparse.Namespace) -> None:
    from seqlab.lessons import race

    root = run_folder.runs_root(args.runs_root)
    started = earlier(args.show, "race", root) or race.start_race(args.corpus, args.budget, args.equal, args.units,
                                                                  root)
    print(f"{started['id']}: {len(started['runs'])} runs in {root}", file=sys.stderr)
    if not args.no_wait:
        wait_for_runs(started["runs"], root, started["id"])
    sentence = race.verdict(started["runs"])
    if args.json:
        print(json.dumps({"id": started["id"], "runs": race.race_status(started["runs"]), "verdict": sentence},
                         indent=2))
    else:
        print(sentence)


def earlier(experiment_id: str | None, kind: str, root: Path) -> dict | None:
    """{"id", "runs", "record"} of the experiment `--show` names (it must be of `kind`); None without --show."""
    from seqlab.lessons import experiment

    if experiment_id is None:
        return None
    if not experiment_id.startswith(f"{kind}-"):
        raise SeqlabError(f"'{experiment_id}' is not a {kind}", f"an id such as {kind}-1",
                          f"list them on the Lesson page, or start a new {kind} without --show")
    runs = experiment.experiment_runs(experiment_id, root)
    return {"id": experiment_id, "runs": runs, "record": experiment.read_experiment(Path(runs[0])) or {}}


def probe_command_line(args: argparse.Namespace, distances: list[int]) -> str:
    return (f"python -m seqlab probe memory --distances {','.join(map(str, distances))} --kind {args.kind} "
            f"--budget {args.budget:g}")


def machine_facts() -> dict:
    """What a reader needs to compare a measured table with theirs."""
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor() or "",
            "python": platform.python_version()}


def probe_report(args: argparse.Namespace, started: dict, distances: list[int]) -> dict:
    """The probe's results as one JSON-ready dict: rows (accuracy at the answer per distance and cell), the sentence,
    the command and the machine."""
    from seqlab.lessons import memory_probe

    rows = memory_probe.probe_table(started["runs"])
    return {"id": started["id"], "kind": args.kind, "budget_seconds": args.budget, "distances": distances,
            "rows": rows, "sentence": memory_probe.probe_sentence(rows), "command": probe_command_line(args, distances),
            "machine": machine_facts(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "runs": started["runs"]}


def format_probe(report: dict) -> str:
    """The table as text: one row per distance, a column per cell (accuracy at the answer), and chance."""
    from seqlab.lessons.memory_probe import CELLS
    from seqlab.report.plain_words import cell_name

    def shown(value) -> str:
        return "—" if value is None else f"{value:.0%}"

    header = f"{'steps back':>10}" + "".join(f"{cell_name(cell):>11}" for cell in CELLS) + f"{'chance':>9}"
    lines = [f"memory probe ({report['kind']}), {report['budget_seconds']:g} s per run; accuracy at the answer on "
             "fresh lines", header]
    lines += [f"{row['distance']:>10}" + "".join(f"{shown(row[cell]):>11}" for cell in CELLS)
              + f"{row['chance']:>9.1%}" for row in report["rows"]]
    machine = report["machine"]
    lines += [report["sentence"], f"command: {report['command']}",
              f"machine: {machine['cpus']} CPUs, {machine['platform']}; {report['id']}, {report['date']}"]
    return "\n".join(lines)


def command_probe_memory(args: argparse.Namespace) -> None:
    from seqlab.lessons import memory_probe, probe_eval

    root = run_folder.runs_root(args.runs_root)
    started = earlier(args.show, "probe", root)
    if started is None:
        distances = memory_probe.parse_distances(args.distances)
        started = memory_probe.start_probe(distances, args.kind, args.budget, root)
    else:  # the earlier probe's own settings, for the report and its command line
        record = started.pop("record")
        distances, args.kind, args.budget = record["distances"], record["corpus_kind"], record["budget_seconds"]
    print(f"{started['id']}: {len(started['runs'])} runs in {root}", file=sys.stderr)
    if not args.no_wait:
        wait_for_runs(started["runs"], root, started["id"])
        from seqlab.cli.main import import_tensorflow_quietly

        import_tensorflow_quietly()
        probe_eval.evaluate_finished(started["runs"], root)
    report = probe_report(args, started, distances)
    if args.out:
        try:
            write_text_atomic(Path(args.out), json.dumps(report, indent=2) + "\n")
        except OSError as error:
            raise SeqlabError(f"Cannot write {args.out} ({error.strerror})", "a writable file path",
                              "pick another --out") from None
    print(json.dumps(report, indent=2) if args.json else format_probe(report))
