"""`bench quality`'s model comparisons: does attention, a Transformer or a forecaster earn its place?

Each pairs a new model with what it should be measured against, trained the same way in the same run:
- reviews/attention: the best review preset with attention pooling, beside the same preset's max-mean pooling
  (reviews/best-quality), both scored on Stanford's IMDb test split;
- text/tiny-transformer: the tiny-Transformer preset on Tiny Shakespeare for the LSTM preset's 300 s, beside the
  LSTM preset (text/best-quality): validation loss and steps;
- series/sunspots: a forecaster trained on the yearly sunspot numbers, its RMSE and MAE on the held-out tail beside
  the naive (last value) and seasonal-naive (one cycle back) forecasts of the same tail.
`python -m bench quality --only attention|transformer|forecast` runs one pair (its baseline phase included).
"""

from __future__ import annotations

from pathlib import Path

# which phases each --only group runs, in order (None: every phase, the groups' baselines once)
GROUPS = {
    "text": ("text/best-quality", "text/pytorch-reference", "text/quick-demo", "text/precision-float32",
             "text/precision-bfloat16"),
    "reviews": ("reviews/best-quality", "reviews/bag-of-words"),
    "attention": ("reviews/best-quality", "reviews/attention"),
    "transformer": ("text/best-quality", "text/tiny-transformer"),
    "forecast": ("series/sunspots",),
}
MODEL_COMPARISONS = (  # (name, phase, baseline phase, evaluation key): the phase's figure minus the baseline's
    ("attention_accuracy_minus_max_mean", "reviews/attention", "reviews/best-quality", "accuracy"),
    ("tiny_transformer_loss_minus_lstm", "text/tiny-transformer", "text/best-quality", "loss"),
    ("sunspots_rmse_minus_naive", "series/sunspots", "series/sunspots", ("rmse", "naive_rmse")),
    ("sunspots_rmse_minus_seasonal_naive", "series/sunspots", "series/sunspots", ("rmse", "seasonal_naive_rmse")),
)
FORECAST_SECONDS = 180.0  # the best-quality forecast preset's own budget (309 values: many passes over them)


def selected(only: str | None) -> list[str]:
    """The phases a run with `--only` runs, in the benchmark's order, each once."""
    groups = GROUPS.values() if only is None else [GROUPS[only]]
    names: list[str] = []
    for group in groups:
        names += [name for name in group if name not in names]
    return names


def forecast_phase(run_phase_function, seconds: float, overrides: dict, root: Path) -> dict:
    """Train the forecast preset on sunspots as the app does; evaluate it and both baselines on the held-out tail."""
    from seqlab.infer.forecasting import evaluate_forecast

    result = run_phase_function("forecast", "best-quality", "sunspots", seconds, overrides, root, None)
    if "error" in result:
        return result
    metrics = evaluate_forecast(Path(result.pop("run_dir")), root=root)
    evaluation = {"rmse": metrics["model"]["rmse"], "mae": metrics["model"]["mae"]}
    for baseline in ("naive", "seasonal_naive"):
        evaluation.update({f"{baseline}_rmse": metrics[baseline]["rmse"], f"{baseline}_mae": metrics[baseline]["mae"]})
    return {**result, "evaluation": evaluation}


def model_comparisons(phases: dict) -> dict:
    """Each new model's figure minus its baseline's (None where either is missing)."""
    comparisons = {}
    for name, phase, baseline, key in MODEL_COMPARISONS:
        key, baseline_key = key if isinstance(key, tuple) else (key, key)
        value = phases.get(phase, {}).get("evaluation", {}).get(key)
        reference = phases.get(baseline, {}).get("evaluation", {}).get(baseline_key)
        comparisons[name] = None if value is None or reference is None else round(value - reference, 4)
    return comparisons
