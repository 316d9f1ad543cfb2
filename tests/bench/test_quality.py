"""`python -m bench quality`: the --quick path end to end, and the pieces that need no training."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench.quality import BUSY_LOAD, GOALS, comparison_summary, goal_summary, load_warning, make_plan
from bench.quality_models import selected

REPO = Path(__file__).resolve().parents[2]
TEXT_PHASES = ("text/best-quality", "text/pytorch-reference", "text/quick-demo", "text/precision-float32",
               "text/precision-bfloat16")
REVIEW_PHASES = ("reviews/best-quality", "reviews/bag-of-words")
MODEL_PHASES = ("reviews/attention", "text/tiny-transformer", "series/sunspots")


def run_cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", "quality", *arguments], cwd=REPO,
                          capture_output=True, text=True, timeout=400)


def test_quick_run_writes_well_formed_json_with_every_phase(tmp_path, shared_data):
    out = tmp_path / "bench" / "quality.json"
    completed = run_cli("--quick", "--out", str(out))
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert json.loads(completed.stdout) == report  # the JSON printed is the JSON written
    assert report["benchmark"] == "quality" and report["quick"] is True and report["complete"] is True
    assert list(report["phases"]) == [*TEXT_PHASES, *REVIEW_PHASES, *MODEL_PHASES]  # in order, one after another
    plan = make_plan(quick=True)
    for name, phase in report["phases"].items():
        if name == "text/pytorch-reference" and phase.get("error", "").startswith("torch not installed"):
            continue  # torch comes from requirements-bench.txt; without it the phase says so
        assert "error" not in phase, (name, phase)
        assert phase["wall_seconds"] > 0 and len(phase["load_average_before"]) == 3
        assert phase["warning"] == load_warning(name, phase["load_average_before"][0])
        if name == "series/sunspots":  # a forecaster: errors in sunspots, beside the two baselines'
            assert all(math.isfinite(phase["evaluation"][key]) and phase["evaluation"][key] >= 0
                       for key in ("rmse", "mae", "naive_rmse", "seasonal_naive_rmse"))
        else:
            assert 0 <= phase["evaluation"]["accuracy"] <= 1 and math.isfinite(phase["evaluation"]["loss"])
        if phase["framework"] in ("seqlab", "torch"):
            assert 0 < phase["steps"] <= 30 and phase["training_seconds"] > 0  # trained, within the tiny caps
    text = {name: report["phases"][name] for name in TEXT_PHASES}
    budgets = {"text/best-quality": plan.best_quality_seconds, "text/quick-demo": plan.quick_demo_seconds}
    for name, budget in budgets.items():
        assert text[name]["state"] == "finished" and text[name]["preset"] in name
        assert text[name]["train"]["time_budget_seconds"] == budget
        assert text[name]["validation_curve"], "the trainer validated at least once"
    precisions = [text[f"text/precision-{name}"] for name in ("float32", "bfloat16")]
    assert [phase["train"]["precision"] for phase in precisions] == ["float32", "bfloat16"]
    assert all(phase["steps"] == 30 and phase["train"]["time_budget_seconds"] == 0 for phase in precisions)
    assert report["comparisons"]["bfloat16_loss_minus_float32"] == pytest.approx(
        precisions[1]["evaluation"]["loss"] - precisions[0]["evaluation"]["loss"])
    torch_phase = text["text/pytorch-reference"]
    if "error" not in torch_phase:  # scored on exactly the windows seqlab's evaluation scored
        assert torch_phase["evaluation"]["characters"] == text["text/best-quality"]["evaluation"]["characters"]
    seqlab_reviews, bag_of_words = (report["phases"][name] for name in REVIEW_PHASES)
    assert seqlab_reviews["evaluation"]["reviews"] == bag_of_words["evaluation"]["reviews"] == plan.test_reviews
    assert bag_of_words["framework"] == "scikit-learn" and bag_of_words["chosen_c"] > 0
    assert bag_of_words["train_reviews"] == plan.train_reviews * 9 // 10  # the 90% seqlab trains on
    assert sum(map(sum, bag_of_words["evaluation"]["confusion_matrix"]["matrix"])) == plan.test_reviews
    assert [goal["phase"] for goal in report["goals"]] == [goal[0] for goal in GOALS]
    assert report["goals"] == goal_summary(report["phases"])
    assert report["comparisons"]["reviews_accuracy_minus_bag_of_words"] == pytest.approx(
        seqlab_reviews["evaluation"]["accuracy"] - bag_of_words["evaluation"]["accuracy"])
    assert report["warnings"] == [phase["warning"] for phase in report["phases"].values() if phase["warning"]]
    assert report["machine"]["versions"]["scikit-learn"] and report["machine"]["cpu"]
    assert "IMDb: test accuracy" in completed.stderr  # the goals, for people
    attention, transformer, sunspots = (report["phases"][name] for name in MODEL_PHASES)
    assert attention["model"]["pooling"] == "attention" and seqlab_reviews["model"]["pooling"] == "max_mean"
    assert attention["evaluation"]["reviews"] == plan.test_reviews  # the same test reviews as max-mean's
    assert report["comparisons"]["attention_accuracy_minus_max_mean"] == pytest.approx(
        attention["evaluation"]["accuracy"] - seqlab_reviews["evaluation"]["accuracy"], abs=1e-4)
    assert transformer["model"]["cell"] == "transformer" and transformer["preset"] == "tiny-transformer"
    assert transformer["train"]["time_budget_seconds"] == plan.best_quality_seconds  # the LSTM preset's budget
    assert report["comparisons"]["tiny_transformer_loss_minus_lstm"] == pytest.approx(
        transformer["evaluation"]["loss"] - text["text/best-quality"]["evaluation"]["loss"], abs=1e-4)
    assert sunspots["model"]["task"] == "forecast" and sunspots["train"]["corpus"] == "sunspots"
    assert report["comparisons"]["sunspots_rmse_minus_naive"] == pytest.approx(
        sunspots["evaluation"]["rmse"] - sunspots["evaluation"]["naive_rmse"], abs=1e-4)


def test_each_group_runs_its_model_beside_its_baseline_once():
    assert selected("attention") == ["reviews/best-quality", "reviews/attention"]
    assert selected("transformer") == ["text/best-quality", "text/tiny-transformer"]
    assert selected("forecast") == ["series/sunspots"]
    everything = selected(None)
    assert len(everything) == len(set(everything)) == len(TEXT_PHASES + REVIEW_PHASES + MODEL_PHASES)


def test_goals_compare_what_was_measured_with_the_targets():
    phases = {"text/best-quality": {"evaluation": {"loss": 1.40}}, "text/quick-demo": {"evaluation": {"loss": 2.3}},
              "reviews/best-quality": {"error": "the run ended failed"}}
    summary = {goal["phase"]: goal for goal in goal_summary(phases)}
    assert summary["text/best-quality"]["met"] is True and summary["text/best-quality"]["measured"] == 1.40
    assert summary["text/quick-demo"]["met"] is False
    assert summary["reviews/best-quality"]["met"] is None and summary["reviews/best-quality"]["measured"] is None
    accurate = goal_summary({"reviews/best-quality": {"evaluation": {"accuracy": 0.91}}})
    assert [goal["met"] for goal in accurate] == [None, None, True]
    phases["text/pytorch-reference"] = {"evaluation": {"loss": 1.5}}
    comparisons = comparison_summary(phases)
    assert comparisons["best_quality_loss_minus_pytorch"] == pytest.approx(-0.1)
    assert comparisons["reviews_accuracy_minus_bag_of_words"] is None


def test_load_warning_only_above_the_threshold():
    assert load_warning("text/quick-demo", BUSY_LOAD) is None
    warning = load_warning("text/quick-demo", BUSY_LOAD + 0.5)
    assert "text/quick-demo" in warning and "2.00" in warning


def test_full_plan_uses_the_issue_budgets_and_the_reference_shape():
    plan = make_plan(quick=False)
    assert (plan.best_quality_seconds, plan.quick_demo_seconds, plan.reviews_seconds) == (300, 60, 600)
    assert not plan.generate_overrides and not plan.classify_overrides and plan.text_characters == 0
    shape = plan.torch_shape
    assert (shape.cell, shape.num_layers, shape.units, shape.embedding_dim, shape.batch_size,
            shape.sequence_length, shape.learning_rate) == ("lstm", 1, 512, 128, 64, 100, 2e-3)


@pytest.mark.parametrize("arguments, message", [
    (("--only", "images"), "invalid choice"),
    (("--quick", "--out", "."), "is a folder"),
])
def test_bad_options_are_one_line_errors(arguments, message):
    completed = run_cli(*arguments)
    assert completed.returncode == 2 and completed.stdout == ""
    assert message in completed.stderr and len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert "Traceback" not in completed.stderr
