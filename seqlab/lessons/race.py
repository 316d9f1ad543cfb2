"""The cell-type race: SimpleRNN, LSTM, GRU and a tiny Transformer trained on the same corpus with the same budget,
then one verdict.

Fairness: every cell trains for the same number of seconds (its own training time, whether they run side by
side or queue one after another, as the job runner allows). What else is equal is the user's pick:

    equal="time"        the same units for all, so the LSTM has about 4x and the GRU 3x the SimpleRNN's
                        weights: the question is "which cell, at this size, learns most in the time?"
    equal="parameters"  units chosen per cell so that each has about as many weights as the LSTM at the base
                        units (SimpleRNN gets ~2x the units, GRU ~1.15x): "which design uses its weights best?"

The Transformer (the fourth runner, for comparison: no memory carried along, attention over its window instead)
splits its units among `race_heads` heads, so its units are a multiple of those: at equal size it comes within a
few percent of the LSTM's weights rather than within one unit's worth.

Either way all four see the same windows of the same corpus with the same seed and settings (the task's quick-demo
preset), and the verdict says which of the two was held equal. The four runs are one experiment
(experiment.json, kind "race"; seqlab/lessons/experiment.py), named "race-3 LSTM" and so on.
"""

from __future__ import annotations

from pathlib import Path

from seqlab.config import ModelConfig
from seqlab.corpus.registry import load_corpus
from seqlab.errors import SeqlabError
from seqlab.lessons import experiment
from seqlab.model.size import parameter_count
from seqlab.presets import preset_configs
from seqlab.report import plain_words
from seqlab.report.comparison import run_curves
from seqlab.runs import launch, run_folder, states
from seqlab.runs.states import RunState
from seqlab.runs.workspaces import OPERATOR, Viewer

CELLS = ("simple_rnn", "lstm", "gru", "transformer")
EQUAL = ("time", "parameters")
UNITS_RANGE = (4, 2048)  # the Train page's range for units
SCORED = (RunState.FINISHED, RunState.STOPPED)  # ended with a best model and its figures


def race_heads(units: int) -> int:
    """The Transformer's heads in a race: 4 (the presets'), or 2 or 1 where the units do not split into 4."""
    return next(heads for heads in (4, 2, 1) if units % heads == 0)


def matched_units(cell: str, target: int, model: ModelConfig, vocabulary_size: int, sequence_length: int = 0) -> int:
    """The units at which `cell` has the parameter count nearest `target` (the rest of `model` unchanged); a
    Transformer's are a multiple of 4 (its heads), and its learned positions count `sequence_length` vectors."""
    def count(units: int) -> int:
        return parameter_count(ModelConfig(**{**model.__dict__, "cell": cell, "units": units,
                                              "heads": race_heads(units)}), vocabulary_size, sequence_length)

    step = 4 if cell == "transformer" else 1
    return min(range(UNITS_RANGE[0], UNITS_RANGE[1] + 1, step), key=lambda units: (abs(count(units) - target), units))


def plan_race(corpus: str, budget_seconds: float, equal: str = "time", units: int | None = None) -> list[dict]:
    """The four runs: [{"cell", "name", "units", "parameters", "budget_seconds", "model", "train" (configs),
    "record" (what experiment.json adds)}] in the order of CELLS. `units`: the base size (default: the
    quick-demo preset's); `corpus`: a built-in name or a readable path."""
    if equal not in EQUAL:
        raise SeqlabError(f"'{equal}' cannot be held equal", "time or parameters", "use --equal time or parameters")
    if not 1 <= budget_seconds <= 24 * 3600:
        raise SeqlabError(f"A budget of {budget_seconds:g} s per cell", "1 s to a day", "e.g. --budget 60")
    loaded = load_corpus(corpus)
    if loaded.task == "forecast":  # its verdict is by accuracy, which a forecast has not
        raise SeqlabError(f"'{loaded.name}' is a series to forecast", "a text or a review corpus to race the cells on",
                          "race on a text or reviews; compare forecasters on the Runs page (their error in units)")
    overrides = {"corpus": corpus, "time_budget_seconds": float(budget_seconds), "seed": 1234}
    base, base_train = preset_configs(loaded.task, "quick-demo", **overrides, **({"units": units} if units else {}))
    vocabulary = len(set(loaded.text)) if loaded.task == "generate" else base.vocabulary_size
    target = parameter_count(ModelConfig(**{**base.__dict__, "cell": "lstm"}), vocabulary)
    plans = []
    for cell in CELLS:
        cell_units = (matched_units(cell, target, base, vocabulary, base_train.sequence_length)
                      if equal == "parameters" else base.units)
        heads = {"heads": race_heads(cell_units)} if cell == "transformer" else {}
        model, train = preset_configs(loaded.task, "quick-demo", **overrides, cell=cell, units=cell_units, **heads)
        parameters = parameter_count(model, vocabulary, train.sequence_length)
        plans.append({"cell": cell, "name": plain_words.cell_name(cell), "units": cell_units,
                      "parameters": parameters, "budget_seconds": float(budget_seconds), "model": model,
                      "train": train, "record": {"cell": cell, "units": cell_units, "parameters": parameters}})
    return plans


def start_race(corpus: str, budget_seconds: float, equal: str = "time", units: int | None = None,
               root: Path | None = None, viewer: Viewer = OPERATOR) -> dict:
    """Start the four runs (they queue or train side by side as the job runner allows, in the viewer's
    workspace); returns {"id": "race-3", "runs": [run folders as str]}."""
    root = run_folder.runs_root(root)
    corpus = launch.resolve_corpus(corpus, viewer, root)  # a browser may only race on its own uploads
    plans = plan_race(corpus, budget_seconds, equal, units)
    fields = {"equal": equal, "budget_seconds": float(budget_seconds), "corpus": corpus}
    return experiment.start_group("race", plans, root, viewer, fields)


def find_races(root: Path | None = None, viewer: Viewer = OPERATOR) -> list[dict]:
    """The races this viewer may control, newest first: {"id", "created_at", "record", "runs": [paths]}."""
    return experiment.find_experiments("race", root, viewer)


def race_status(run_dirs: list[str | Path]) -> list[dict]:
    """Per run, in race order: {"path", "cell", "label", "state", "progress", "accuracy", "loss", "units",
    "parameters", "seconds"} (the figures None until known; accuracy and loss are the best on validation)."""
    from seqlab.runs import jobs

    rows = []
    for run_dir in map(Path, run_dirs):
        model, _ = run_folder.read_configs(run_dir)
        status, record = jobs.reconcile(run_dir), experiment.read_experiment(run_dir) or {}
        rows.append({"path": str(run_dir), "cell": model.cell, "label": plain_words.cell_name(model.cell),
                     "task": model.task, "state": status["state"], "progress": status.get("progress"),
                     "accuracy": status.get("best_val_accuracy"), "loss": status.get("best_val_loss"),
                     "units": model.units, "parameters": status.get("parameters") or record.get("parameters"),
                     "seconds": status.get("elapsed_seconds"), "steps": status.get("step")})
    return rows


def race_curves(run_dirs: list[str | Path]) -> dict[str, dict]:
    """{"LSTM · 256 units": run_curves(...)} for comparison.overlay_figure: the learning curves on one
    chart."""
    return {f"{row['label']} · {row['units']} units": run_curves(Path(row["path"]))
            for row in race_status(run_dirs)}


def _unfinished(rows: list[dict]) -> str:
    def where(row: dict) -> str:
        if row["state"] == RunState.RUNNING and isinstance(row["progress"], int | float):
            return f"{row['label']} is training ({row['progress']:.0%})"
        return f"{row['label']} is {row['state']}"

    return "Still racing: " + ", ".join(where(row) for row in rows) + "."


def verdict(run_dirs: list[str | Path]) -> str:
    """One plain-words sentence: 'After 60 s each with the same units (256), LSTM guesses the next character right
    48% of the time, GRU 47%, SimpleRNN 39%: LSTM learned most.' While a run is unfinished it says so instead."""
    rows = race_status(run_dirs)
    if not rows:
        return "This race has no runs."
    if any(row["state"] not in states.FINAL for row in rows):
        return _unfinished(rows)
    scored = sorted((row for row in rows if row["state"] in SCORED and isinstance(row["accuracy"], int | float)),
                    key=lambda row: -row["accuracy"])
    lost = [row["label"] for row in rows if row not in scored]
    lost_text = f" ({', '.join(lost)} ended without a result)" if lost else ""
    if not scored:
        return f"No cell finished the race{lost_text}."
    record = experiment.read_experiment(Path(rows[0]["path"])) or {}
    budget = record.get("budget_seconds")
    held = (f"at the same size (about {scored[0]['parameters']:,} parameters)"
            if record.get("equal") == "parameters" and isinstance(scored[0]["parameters"], int)
            else f"with the same units ({rows[0]['units']})")
    opening = f"After {budget:g} s each {held}" if isinstance(budget, int | float) else f"Trained {held}"
    first = f"{scored[0]['label']} {plain_words.guesses_right(scored[0]['accuracy'], scored[0]['task'])}"
    others = ", ".join(f"{row['label']} {row['accuracy']:.0%}" for row in scored[1:])
    if len(scored) > 1 and round(scored[0]["accuracy"] * 100) == round(scored[1]["accuracy"] * 100):
        ending = f"{scored[0]['label']} and {scored[1]['label']} learned about as much"
    else:
        ending = f"{scored[0]['label']} learned most"
    steps = _steps_sentence(scored, same_units=record.get("equal") != "parameters")
    return f"{opening}, {first}{', ' + others if others else ''}: {ending}{lost_text}.{steps}"


def _steps_sentence(scored: list[dict], same_units: bool) -> str:
    """' In that time SimpleRNN took 2,950 training steps, GRU 1,300, LSTM 1,100…' — why a plain cell can win a
    race for time at the same units: it does less arithmetic per step, so it reads more text (at the same size, the
    steps cost about the same, and the counts are only reported). Empty when a step count is missing."""
    if len(scored) < 2 or not all(isinstance(row.get("steps"), int) and row["steps"] > 0 for row in scored):
        return ""
    ranked = sorted(scored, key=lambda row: -row["steps"])
    others = ", ".join(f"{row['label']} {row['steps']:,}" for row in ranked[1:])
    gates = ": the fewer gates a cell has, the less work a step is, and the more text it reads"
    if any(row["cell"] == "transformer" for row in scored):
        gates = ": the less work a step is, the more text a cell reads"
    reason = gates if same_units else ""
    return f" In that time {ranked[0]['label']} took {ranked[0]['steps']:,} training steps, {others}{reason}."
