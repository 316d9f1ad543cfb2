"""`python -m bench training`: the --quick path end to end, and the pieces that need no framework."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.training import FRAMEWORKS, format_report, full_shapes, make_batches, quick_shapes

REPO = Path(__file__).resolve().parents[2]


def run_cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", "training", *arguments], cwd=REPO,
                          capture_output=True, text=True, timeout=240)


def test_quick_run_writes_well_formed_json_with_positive_throughputs(tmp_path):
    out = tmp_path / "bench" / "training.json"
    completed = run_cli("--quick", "--out", str(out))
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert json.loads(completed.stdout) == report  # the JSON printed is the JSON written
    assert report["benchmark"] == "training" and report["quick"] is True and report["complete"] is True
    method = report["method"]
    assert method["threads"] >= 1 and method["inter_op_threads"] >= 1
    assert report["machine"]["logical_cores"] >= 1 and report["machine"]["versions"]["tensorflow"]
    (result,) = report["results"]
    shape, frameworks = result["shape"], result["frameworks"]
    assert set(frameworks) == set(FRAMEWORKS)
    for name in ("seqlab", "keras"):
        entry = frameworks[name]
        assert "error" not in entry, entry
        assert len(entry["step_seconds"]) == entry["timed_steps"] == method["timed_steps_per_framework"]
        assert entry["characters_per_second"] > 0 and entry["median_step_seconds"] > 0
        assert 0 < entry["fastest_step_seconds"] <= entry["median_step_seconds"]
        assert entry["median_step_cpu_seconds"] > 0
        expected = shape["batch_size"] * shape["sequence_length"] / entry["median_step_seconds"]
        assert entry["characters_per_second"] == pytest.approx(expected, rel=0.01)
        assert entry["intra_op_threads"] == method["threads"]  # threads really set in the worker
    # the whole-sequence ops ran where this machine builds them (AVX-512 BF16): the 32 units are two blocks of 16
    assert frameworks["seqlab"]["sequence_kernels"] == ("avx512_bf16" in Path("/proc/cpuinfo").read_text())
    # seqlab and the plain-Keras baseline build the same network: same weights count
    assert frameworks["seqlab"]["parameters"] == frameworks["keras"]["parameters"]
    torch_entry = frameworks["torch"]
    if "error" in torch_entry:
        assert torch_entry["error"] == "torch not installed" and result["ratios"]["seqlab_vs_torch"] is None
    else:
        assert torch_entry["characters_per_second"] > 0 and torch_entry["intra_op_threads"] == method["threads"]
        assert result["ratios"]["seqlab_vs_torch"] == pytest.approx(
            frameworks["seqlab"]["characters_per_second"] / torch_entry["characters_per_second"], rel=0.01)
    assert result["ratios"]["seqlab_vs_keras"] == pytest.approx(
        frameworks["seqlab"]["characters_per_second"] / frameworks["keras"]["characters_per_second"], rel=0.01)
    assert "lstm 32x1" in completed.stderr  # the table for people


def test_out_pointing_at_a_folder_is_one_line_error(tmp_path):
    completed = run_cli("--quick", "--out", str(tmp_path))
    assert completed.returncode == 2
    assert completed.stderr.startswith("error:") and "Fix:" in completed.stderr and "Traceback" not in completed.stderr


def test_full_run_covers_the_issue_shapes_and_presets():
    from seqlab.presets import PRESETS

    names = [shape.name for shape in full_shapes(bfloat16=True)]
    assert {"lstm 512x2", "gru 512x2", "simple_rnn 512x2", "lstm 512x2 bfloat16"} <= set(names)
    recurrent = [preset for preset, values in PRESETS["generate"].items() if values.get("cell") != "transformer"]
    assert {f"preset {preset}" for preset in recurrent} <= set(names) and len(recurrent) >= 3
    assert "lstm 512x2 bfloat16" not in [shape.name for shape in full_shapes(bfloat16=False)]
    balanced = next(shape for shape in full_shapes(False) if shape.name == "preset balanced")
    assert (balanced.units, balanced.embedding_dim) == (PRESETS["generate"]["balanced"]["units"],
                                                        PRESETS["generate"]["balanced"]["embedding_dim"])


def test_batches_are_identical_for_every_worker_and_shifted_by_one():
    shape = quick_shapes()[0]
    inputs, targets = make_batches(shape)
    again, _ = make_batches(shape)
    assert (inputs == again).all() and inputs.shape[1:] == (shape.batch_size, shape.sequence_length)
    assert (inputs[:, :, 1:] == targets[:, :, :-1]).all() and inputs.max() < 65


def test_report_table_marks_missing_frameworks():
    entry = {"characters_per_second": 1000.0}
    report = {"method": {"timed_steps_per_framework": 4, "threads": 2, "inter_op_threads": 2}, "results": [
        {"shape": {"name": "lstm 512x2", "precision": "float32"},
         "frameworks": {"seqlab": entry, "keras": entry, "torch": {"error": "torch not installed"}},
         "ratios": {"seqlab_vs_torch": None, "seqlab_vs_keras": 1.0}}]}
    row = format_report(report).splitlines()[1]
    assert row.split()[-3:] == ["n/a", "n/a", "1.00"]


def test_an_oversubscribed_machine_is_flagged():
    from bench.training import load_warning

    assert load_warning({"load_average_at_start": [0.5, 0, 0], "load_average_at_end": [1.5, 0, 0],
                         "usable_cores": 2}) is None
    warning = load_warning({"load_average_at_start": [0.5, 0, 0], "load_average_at_end": [9.0, 0, 0],
                            "usable_cores": 2})
    assert "9.0" in warning and "quiet machine" in warning
