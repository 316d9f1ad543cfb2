"""`python -m bench quality`: time-to-quality — what seqlab's presets reach within their time budgets.

Every seqlab phase goes through the product's own path: a run folder made by seqlab.runs.launch.start_training in a
temporary runs root, trained by its worker process, waited on with seqlab.runs.jobs.wait_for, then scored with
seqlab.infer.evaluation.evaluate_run on the run's best-validation model.
- text: Best quality (300 s) and Quick demo (60 s) on Tiny Shakespeare, validation loss in nats/char on the
  held-out last 10% (by position), beside the PyTorch reference trained for the same 300 s on the same windows;
- reviews: Best quality (<= 600 s) trained on Stanford's train split, accuracy on its test split, beside a
  TF-IDF + logistic-regression baseline trained on the same reviews (both baselines: quality_baselines.py);
- model comparisons (quality_models.py): attention pooling beside max-mean on IMDb, the tiny Transformer beside the
  LSTM preset at 300 s, a sunspot forecaster beside the naive and seasonal-naive forecasts.
Phases run one after another, never together. The machine may be shared: the load average before each phase is
recorded, with a warning when it was above BUSY_LOAD.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.quality_baselines import bag_of_words_phase, review_slice, torch_phase
from bench.quality_models import FORECAST_SECONDS, GROUPS, forecast_phase, model_comparisons, selected
from bench.report_file import output_path, writer
from bench.training import DATA_SEED, Shape, bfloat16_support, machine_info
from seqlab.errors import SeqlabError
from seqlab.runs.states import RunState

REPOSITORY = Path(__file__).resolve().parents[1]
STANFORD_ARCHIVE = REPOSITORY.parent / "shared" / "data" / "aclImdb_v1_reviews.tar.gz"
BUSY_LOAD = 1.5  # 1-minute load average above which a phase may have shared the CPU with other programs
SETTLE_SECONDS = 30.0  # full runs wait up to this for the previous phase's own load to fade (quick runs: 0)
WAIT_MARGIN_SECONDS = 600.0  # beyond the budget: worker start, data preparation, last validation and checkpoint
# The goal's PyTorch figures (1.509 nats/char with bf16 autocast, 1.535 in float32, after 300 s) came from this
# shape: embedding 128, one LSTM of 512, batch 64, sequence 100, Adam 2e-3.
REFERENCE_SHAPE = Shape("pytorch reference lstm 512x1", "lstm", 1, 512, 128)
COMPARISONS = (  # (name, seqlab phase, baseline phase, evaluation key): seqlab's figure minus the baseline's
    ("best_quality_loss_minus_pytorch", "text/best-quality", "text/pytorch-reference", "loss"),
    ("reviews_accuracy_minus_bag_of_words", "reviews/best-quality", "reviews/bag-of-words", "accuracy"),
    ("bfloat16_loss_minus_float32", "text/precision-bfloat16", "text/precision-float32", "loss"),
)
GOALS = (  # (phase, evaluation key, comparison, target, what)
    ("text/best-quality", "loss", "<=", 1.47, "Best quality: validation loss (nats/char) after 300 s"),
    ("text/quick-demo", "loss", "<=", 2.0, "Quick demo: validation loss (nats/char) after 60 s"),
    ("reviews/best-quality", "accuracy", ">=", 0.90, "IMDb: test accuracy of a model trained <= 10 minutes"),
)


@dataclass(frozen=True)
class Plan:
    """Budgets and sizes: the issue's for a full run; tiny ones for --quick (a smoke test: figures mean nothing)."""

    quick: bool = False
    best_quality_seconds: float = 300.0
    quick_demo_seconds: float = 60.0
    reviews_seconds: float = 600.0
    text_characters: int = 0  # 0: the whole corpus, else its first N characters
    train_reviews: int = 0  # 0: the whole train split, else N of it (both classes alike)
    test_reviews: int = 0  # 0: the whole test split
    generate_overrides: dict = field(default_factory=dict)  # on every text preset (quick: a tiny model)
    classify_overrides: dict = field(default_factory=dict)
    torch_shape: Shape = REFERENCE_SHAPE
    precision_steps: int = 300  # the best-quality preset trained this many steps in float32 and in bfloat16
    transformer_overrides: dict = field(default_factory=dict)  # on the tiny-Transformer preset (quick: tinier)
    forecast_seconds: float = FORECAST_SECONDS
    forecast_overrides: dict = field(default_factory=dict)


def make_plan(quick: bool) -> Plan:
    precision = "bfloat16" if bfloat16_support() else "float32"  # as the goal's best PyTorch figure was taken
    if not quick:
        return Plan(torch_shape=Shape(**{**asdict(REFERENCE_SHAPE), "precision": precision}))
    tiny = dict(num_layers=1, units=32, embedding_dim=16, dropout=0.0, max_steps=30)
    return Plan(True, 10.0, 10.0, 10.0, text_characters=30_000, train_reviews=1_000, test_reviews=2_000,
                generate_overrides=tiny,
                classify_overrides=dict(tiny, vocabulary_size=5_000, sequence_length=100, word_pairs=4_096),
                torch_shape=Shape("pytorch lstm 32x1 (quick)", "lstm", 1, 32, 16),
                transformer_overrides=dict(units=32, heads=2, num_layers=1), forecast_seconds=10.0,
                forecast_overrides=dict(units=16, max_steps=30))


# ---------------------------------------------------------------- seqlab phases (the product's path)

def seqlab_phase(task: str, preset: str, corpus: str, seconds: float, overrides: dict, root: Path,
                 split: str | None) -> dict:
    """Train a preset as the app does, then evaluate its best-validation model on `split` of `corpus` (split None:
    the caller evaluates the run at "run_dir", e.g. a forecaster on its held-out tail)."""
    from seqlab.infer.evaluation import evaluate_run
    from seqlab.presets import preset_configs
    from seqlab.runs import jobs, run_folder
    from seqlab.runs.launch import start_training

    model_config, train_config = preset_configs(task, preset, corpus=corpus, time_budget_seconds=seconds,
                                                **overrides)
    run_dir = start_training(model_config, train_config, root=root)
    try:
        status = jobs.wait_for(run_dir, timeout=seconds + WAIT_MARGIN_SECONDS, root=root)
    except BaseException:  # a timeout or Ctrl-C: the worker must not train on in a folder about to be deleted
        jobs.stop(run_dir, wait=True, root=root)
        raise
    steps = int(status.get("step") or 0)
    result = {"framework": "seqlab", "preset": preset, "model": asdict(model_config),
              "train": {**asdict(train_config), "corpus": Path(corpus).name}, "state": status["state"],
              "steps": steps, "training_seconds": round(float(status.get("elapsed_seconds") or 0.0), 2),
              "epochs_seen": round(steps / max(1, int(status.get("steps_per_epoch") or 1)), 3),
              "parameters": status.get("parameters")}
    if status["state"] != RunState.FINISHED:
        return {**result, "error": status.get("error") or f"the run ended {status['state']}"}
    _, epochs = run_folder.read_metrics(run_dir)
    result["validation_curve"] = [[record["time"], record["step"], record["val_loss"], record.get("val_accuracy")]
                                  for record in epochs]  # [training seconds, step, loss, accuracy] per round
    if split is None:
        return {**result, "run_dir": str(run_dir)}
    evaluation = evaluate_run(run_dir, corpus_name=corpus, split=split, root=root)
    return {**result, "evaluation": {k: v for k, v in evaluation.items() if k not in ("run", "corpus")}}


# ---------------------------------------------------------------- the whole benchmark

def load_warning(phase: str, load: float) -> str | None:
    if load <= BUSY_LOAD:
        return None
    return (f"{phase}: load average {load:.2f} (> {BUSY_LOAD}) at its start: the CPU may have been shared, so it "
            "may have trained fewer steps than on a quiet machine")


def wait_for_quiet(seconds: float) -> float:
    """Give the previous phase's load a moment to fade (the 1-minute average lags); returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < seconds and os.getloadavg()[0] > BUSY_LOAD:
        time.sleep(1.0)
    return round(time.monotonic() - started, 1)


def goal_summary(phases: dict) -> list[dict]:
    """Each goal with what was measured and whether it was met (None where the phase did not run or failed)."""
    summary = []
    for phase, key, comparison, target, what in GOALS:
        measured = phases.get(phase, {}).get("evaluation", {}).get(key)
        met = None if measured is None else (measured <= target if comparison == "<=" else measured >= target)
        summary.append({"goal": what, "phase": phase, "metric": key, "target": f"{comparison} {target}",
                        "measured": measured, "met": met})
    return summary


def comparison_summary(phases: dict) -> dict:
    """seqlab against each baseline trained in the same run (None where either is missing)."""
    figures = {}
    for name, ours, theirs, key in COMPARISONS:
        values = [phases.get(phase, {}).get("evaluation", {}).get(key) for phase in (ours, theirs)]
        figures[name] = None if None in values else values[0] - values[1]
    return {**figures, **model_comparisons(phases)}


def run_benchmark(quick: bool = False, only: str | None = None, progress=print, checkpoint=None) -> dict:
    """All phases in turn; `checkpoint(report)` after each keeps what was measured if a later phase is cut short."""
    if any(name.startswith("reviews/") for name in selected(only)) and not STANFORD_ARCHIVE.is_file():
        raise SeqlabError(f"Stanford's IMDb archive is not at {STANFORD_ARCHIVE}", "aclImdb_v1_reviews.tar.gz in "
                          "../shared/data beside the checkout", "put it there, or run with --only text")
    plan = make_plan(quick)
    report = _empty_report(plan, quick, only)
    with tempfile.TemporaryDirectory(prefix="seqlab-bench-quality-") as temporary:
        for name, phase in _phases(plan, quick, only, Path(temporary)):
            report["phases"][name] = run_phase(name, phase, 0 if quick else SETTLE_SECONDS, progress)
            if report["phases"][name]["warning"]:
                report["warnings"].append(report["phases"][name]["warning"])
            report["goals"] = goal_summary(report["phases"])
            report["comparisons"] = comparison_summary(report["phases"])
            if checkpoint is not None:
                checkpoint(report)
    report["complete"] = True
    return report


def _empty_report(plan: Plan, quick: bool, only: str | None) -> dict:
    machine = machine_info()
    machine["versions"]["scikit-learn"] = _version("scikit-learn")
    return {"benchmark": "quality", "quick": quick, "only": only, "complete": False,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine, "plan": asdict(plan),
            "method": {"seqlab": "start_training -> worker process -> wait_for -> evaluate_run (best-validation "
                                 "model); its budget counts its whole loop: steps, validation rounds, checkpoints, "
                                 "samples; precision phases: the same preset for a fixed number of steps",
                       "torch": "own process, same windows and split, same threads as a seqlab job; budget counts "
                                "training steps only; scored once at the end",
                       "load_average": f"1-minute load before each phase (after waiting up to "
                                       f"{0 if quick else SETTLE_SECONDS:g} s for it to drop to {BUSY_LOAD})"},
            "phases": {}, "goals": [], "comparisons": {}, "warnings": []}


def _phases(plan: Plan, quick: bool, only: str | None, workspace: Path) -> list[tuple[str, object]]:
    """(name, function) of each phase to run, in order; quick runs use slices of the corpora written here."""
    root, text_corpus, names = workspace / "runs", "tiny-shakespeare", selected(only)
    if quick and any(name.startswith("text/") for name in names):
        from seqlab.corpus.registry import load_corpus

        text_corpus = str(workspace / "tiny_shakespeare_slice.txt")
        Path(text_corpus).write_text(load_corpus("tiny-shakespeare").text[:plan.text_characters], encoding="utf-8")
    reviews = str(STANFORD_ARCHIVE)
    if quick and any(name.startswith("reviews/") for name in names):
        reviews = str(review_slice(STANFORD_ARCHIVE, workspace, plan.train_reviews, plan.test_reviews))
    max_steps = plan.generate_overrides.get("max_steps", 0)

    def text_preset(preset: str, seconds: float, **overrides):
        return lambda: seqlab_phase("generate", preset, text_corpus, seconds,
                                    {**plan.generate_overrides, **overrides}, root, "validation")

    def review_preset(**overrides):
        return lambda: seqlab_phase("classify", "best-quality", reviews, plan.reviews_seconds,
                                    {**plan.classify_overrides, **overrides}, root, "test")

    factories = {
        "text/best-quality": text_preset("best-quality", plan.best_quality_seconds),
        "text/pytorch-reference": lambda: torch_phase(text_corpus, plan.torch_shape, plan.best_quality_seconds,
                                                      max_steps, workspace,
                                                      plan.best_quality_seconds + WAIT_MARGIN_SECONDS),
        "text/quick-demo": text_preset("quick-demo", plan.quick_demo_seconds),
        # bfloat16 against float32 at equal steps (same seed, batches and schedule): does it learn as well?
        **{f"text/precision-{precision}": text_preset("best-quality", 0.0, **{
            "max_steps": plan.precision_steps, **plan.generate_overrides, "precision": precision})
           for precision in ("float32", "bfloat16")},
        "text/tiny-transformer": text_preset("tiny-transformer", plan.best_quality_seconds,
                                             **plan.transformer_overrides),
        "reviews/best-quality": review_preset(),
        "reviews/bag-of-words": lambda: bag_of_words_phase(reviews, DATA_SEED),
        "reviews/attention": review_preset(pooling="attention"),
        "series/sunspots": lambda: forecast_phase(seqlab_phase, plan.forecast_seconds, plan.forecast_overrides,
                                                  root),
    }
    return [(name, factories[name]) for name in names]


def run_phase(name: str, phase, settle_seconds: float, progress) -> dict:
    """One phase, with its machine context; a failure is recorded in the report, the other phases still run."""
    waited = wait_for_quiet(settle_seconds)
    load = list(os.getloadavg())
    progress(f"{name} (load average {load[0]:.2f}) …")
    started = time.perf_counter()
    try:
        result = phase()
    except Exception as error:  # a timeout, a failed run, a missing package: recorded, the next phase runs
        result = {"error": f"{type(error).__name__}: {error}"}
    result.update(wall_seconds=round(time.perf_counter() - started, 2), load_average_before=load,
                  settle_seconds=waited, warning=load_warning(name, load[0]))
    figures = {key: result.get("evaluation", {}).get(key) for key in ("loss", "accuracy")}
    progress(f"  {name}: " + (result["error"] if "error" in result else
                              f"{figures}, {result.get('steps', '-')} steps, {result['wall_seconds']:.0f} s"))
    return result


def _version(package: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def command_bench_quality(args) -> None:
    """`bench quality`: prints the JSON on stdout (progress on stderr) and writes it to --out."""
    # a group's figures go to their own file, so that a partial run never overwrites the full report
    write = writer(output_path(args.out, args.quick, "quality" if args.only is None else f"quality-{args.only}"))
    report = run_benchmark(quick=args.quick, only=args.only, checkpoint=write,
                           progress=lambda text: print(text, file=sys.stderr, flush=True))
    write(report)
    print(json.dumps(report, indent=2))
    for goal in report["goals"]:
        print(f"{goal['goal']}: {goal['measured']} (goal {goal['target']}, met: {goal['met']})", file=sys.stderr)
    for name, value in report["comparisons"].items():
        print(f"{name}: {value}", file=sys.stderr)


def add_quality_command(bench_commands) -> None:
    """Registers `quality` under `bench` (called from bench/__main__.py)."""
    parser = bench_commands.add_parser("quality", help="time-to-quality: validation loss / test accuracy of the "
                                       "presets within their budgets, beside PyTorch and a bag-of-words baseline")
    parser.add_argument("--quick", action="store_true", help="tiny models and budgets (about a minute, a smoke test; "
                        "figures mean nothing); writes a file only with --out")
    parser.add_argument("--only", choices=tuple(GROUPS), help="run one group of phases: text, reviews, or one model "
                        "comparison with its baseline (attention, transformer, forecast)")
    parser.add_argument("--out", help="JSON file to write (default: bench/results/quality.json in the checkout)")
    parser.set_defaults(handler=command_bench_quality)

