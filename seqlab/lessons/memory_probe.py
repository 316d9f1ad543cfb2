"""The memory probe: train SimpleRNN, LSTM and GRU to recall a character N steps back, for several N, and tabulate.

This is the experiment that shows where SimpleRNN fails. For each distance N the user picks, the three cells train
on the same `memory-<kind>-N` corpus (seqlab/corpus/synthetic.py) with the same small model and the same time, then
each run is scored at the answer positions of fresh lines (probe_eval.py). Every run window is longer than two
lines, so most answers have their key inside the window: what limits a cell is its memory, not the data. The runs
are one experiment (experiment.json, kind "probe", with the corpus kind and the run's distance and cell), so the
app and the CLI find them again in the runs folder.
"""

from __future__ import annotations

from pathlib import Path

from seqlab.corpus import synthetic
from seqlab.errors import SeqlabError
from seqlab.lessons import experiment, probe_eval
from seqlab.presets import default_configs
from seqlab.report.plain_words import cell_name
from seqlab.runs import run_folder
from seqlab.runs.workspaces import OPERATOR, Viewer

CELLS = ("simple_rnn", "lstm", "gru")
DEFAULT_DISTANCES = (5, 10, 20, 40)
MAX_DISTANCES = 8
DEFAULT_BUDGET_SECONDS = 45.0  # per run: 12 runs one after another on 2 cores take about 11 minutes
# A small model learns the task in well under a minute; a high learning rate with cosine decay gets there in time.
MODEL = dict(num_layers=1, units=64, embedding_dim=16)
TRAINING = dict(batch_size=64, learning_rate=1e-2, learning_rate_schedule="cosine", epochs=10_000,
                clip="norm", clip_threshold=1.0)
NEAR_CHANCE = 0.15  # within this share of the way from chance to 100%, a cell counts as guessing


def parse_distances(text: str) -> list[int]:
    """'5,10,20,40' -> [5, 10, 20, 40]; SeqlabError for a non-number, a distance out of range, a repeat, or too
    many."""
    parts = [part.strip() for part in str(text).split(",") if part.strip()]
    expected = (f"1 to {MAX_DISTANCES} whole numbers from {synthetic.MIN_DISTANCE} to {synthetic.MAX_DISTANCE}, "
                "separated by commas")
    if not parts or len(parts) > MAX_DISTANCES:
        raise SeqlabError(f"{len(parts)} distances were given", expected, "e.g. --distances 5,10,20,40")
    if not all(part.isdigit() for part in parts):
        bad = next(part for part in parts if not part.isdigit())
        raise SeqlabError(f"'{bad}' is not a whole number of steps", expected, "e.g. --distances 5,10,20,40")
    distances = [synthetic.check_distance(int(part)) for part in parts]
    if len(set(distances)) != len(distances):
        raise SeqlabError("A distance is listed twice", expected, "list each distance once")
    return sorted(distances)


def sequence_length(distance: int) -> int:
    """Three lines per training window (at least 48 characters): most answers see their key in the window."""
    return max(48, 3 * (synthetic.answer_index(distance) + 2))


def plan_probe(distances: list[int], kind: str = "copy", budget_seconds: float = DEFAULT_BUDGET_SECONDS) -> list[dict]:
    """One plan per distance and cell, nearest distance first: {"cell", "distance", "corpus", "name", "model",
    "train" (the configs), "record" (what experiment.json adds)}."""
    if not 0 < budget_seconds <= 3600:
        raise SeqlabError(f"A budget of {budget_seconds:g} s per run", "1 to 3600 seconds per run",
                          "e.g. --budget 45")
    plans = []
    for distance in distances:
        corpus = synthetic.corpus_name(kind, distance)
        for cell in CELLS:
            model, train = default_configs("generate", cell=cell, corpus=corpus, **MODEL, **TRAINING,
                                           sequence_length=sequence_length(distance),
                                           time_budget_seconds=float(budget_seconds))
            plans.append({"cell": cell, "distance": distance, "corpus": corpus, "model": model, "train": train,
                          "name": f"{cell_name(cell)} N={distance}", "record": {"cell": cell, "distance": distance}})
    return plans


def start_probe(distances: list[int], kind: str = "copy", budget_seconds: float = DEFAULT_BUDGET_SECONDS,
                root: Path | None = None, viewer: Viewer = OPERATOR) -> dict:
    """Start the probe's runs (they queue or train side by side as the job runner allows); returns {"id":
    "probe-2", "runs": [run folders as str]}."""
    plans = plan_probe(distances, synthetic.check_kind(kind), budget_seconds)
    fields = {"corpus_kind": kind, "distances": list(distances), "budget_seconds": float(budget_seconds)}
    return experiment.start_group("probe", plans, root, viewer, fields)


def find_probes(root: Path | None = None, viewer: Viewer = OPERATOR) -> list[dict]:
    """The memory probes this viewer may control, newest first (experiment.find_experiments' dicts)."""
    return experiment.find_experiments("probe", root, viewer)


def probe_table(run_dirs: list[str | Path]) -> list[dict]:
    """One row per distance, nearest first: {"distance", "chance", "simple_rnn", "lstm", "gru"}, each cell's
    accuracy at the answer positions (a share, 0-1) or None while its run is not scored."""
    rows: dict[int, dict] = {}
    for run_dir in map(Path, run_dirs):
        record = experiment.read_experiment(run_dir) or {}
        probe = probe_eval.read_probe(run_dir)
        try:
            kind, distance = probe_eval.probe_corpus(run_dir)
        except SeqlabError:
            continue
        cell = (probe or {}).get("cell") or record.get("cell") or run_folder.read_configs(run_dir)[0].cell
        row = rows.setdefault(distance, {"distance": distance, "chance": synthetic.chance(kind),
                                         **dict.fromkeys(CELLS)})
        if cell in CELLS and probe is not None:
            row[cell] = float(probe["accuracy"])
    return [rows[distance] for distance in sorted(rows)]


def _near_chance(accuracy: float, chance: float) -> bool:
    return accuracy < chance + NEAR_CHANCE * (1 - chance)


def cell_summary(rows: list[dict], cell: str) -> str:
    """'SimpleRNN is down to guessing from 20 steps back' (at chance there and at every longer distance) / 'LSTM
    still gets 97% right at 40 steps back' ('' if not scored)."""
    scored = [row for row in rows if row.get(cell) is not None]
    if not scored:
        return ""
    name, last = cell_name(cell), scored[-1]
    guessing = [_near_chance(row[cell], row["chance"]) for row in scored]
    if all(guessing):
        return f"{name} is guessing at every distance tried"
    if guessing[-1]:
        first = len(guessing) - next(index for index, flag in enumerate(reversed(guessing)) if not flag)
        return f"{name} is down to guessing from {scored[first]['distance']} steps back"
    still = "still gets" if last[cell] >= 0.9 else "gets"
    return f"{name} {still} {last[cell]:.0%} right at {last['distance']} steps back"


def probe_sentence(rows: list[dict]) -> str:
    """The probe in one plain sentence: 'SimpleRNN is down to guessing from 20 steps back; LSTM still gets 97% right
    at 40 steps back; GRU still gets 95% right at 40 steps back (guessing: 12%).'"""
    parts = [summary for summary in (cell_summary(rows, cell) for cell in CELLS) if summary]
    if not parts:
        return "No run of this probe has been scored yet."
    missing = sum(row[cell] is None for row in rows for cell in CELLS)
    tail = f"; {missing} run{'s' if missing != 1 else ''} still to score" if missing else ""
    return "; ".join(parts) + f" (guessing: {rows[0]['chance']:.0%}){tail}."
