"""Smoke test of `bench generation` at tiny sizes: the JSON's structure and that the three paths agree."""

import json

import numpy as np
import pytest

from bench import generation
from bench.__main__ import main
from bench.generation import BATCHES, Case, Plan, greedy_texts, run_benchmark
from seqlab.encoding.vocabulary import CharVocabulary

TINY = Plan(repeats=2, lengths={"seqlab": 6, "seqlab_gemm": 6, "numpy_reference": 3, "keras_naive": 2},
            cases=(Case("tiny lstm", "lstm", 2, 16, 8), Case("tiny gru", "gru", 1, 16, 8)))
METHODS = {"seqlab", "seqlab_gemm", "numpy_reference", "keras_naive"}


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple_rnn"])
def test_naive_reference_and_stateful_greedy_texts_agree(cell):
    """Within the naive loop's window all three paths see the same context, so greedy text must be identical."""
    vocabulary = CharVocabulary.from_text("To be, or not to be, that is the question:\n")
    model = generation.build_case(Case("tiny", cell, 2, 16, 8), vocabulary.size)
    rng = np.random.default_rng(2)  # large random weights: clear winners, so float rounding cannot flip argmax
    model.set_weights([rng.normal(0, 1.0, w.shape).astype(np.float32) for w in model.get_weights()])
    texts = greedy_texts(model, vocabulary, "To be", 30)
    assert set(texts) == METHODS - {"seqlab_gemm"}
    assert len(texts["seqlab"]) == 30 and len(set(texts.values())) == 1, texts
    assert len(set(texts["seqlab"])) > 1  # not one character repeated: the paths really were compared


@pytest.fixture(scope="module")
def tiny_run() -> tuple[dict, list[str]]:
    """One real benchmark run at tiny sizes, shared by the tests below (it is the slow part)."""
    lines = []
    return run_benchmark(plan=TINY, progress=lines.append), lines


def test_report_structure(tiny_run):
    report, lines = tiny_run
    report = json.loads(json.dumps(report))
    assert report["benchmark"] == "generation" and report["method"]["repeats"] == 2
    machine = report["machine"]
    assert {"cpu", "logical_cores", "blas", "blas_threads_at_start", "versions"} <= set(machine)
    assert machine["versions"]["numpy"] == np.__version__
    assert [result["case"]["name"] for result in report["results"]] == ["tiny lstm", "tiny gru"]
    for result in report["results"]:
        assert result["greedy_texts_agree"] is True
        rows = result["measurements"]
        threads = {row["blas_threads"] for row in rows}
        assert {(row["method"], row["batch"]) for row in rows} == {(m, b) for m in METHODS for b in BATCHES}
        for row in rows:
            assert len(row["runs"]) == 2 and row["characters_per_second"] == pytest.approx(np.median(row["runs"]),
                                                                                          rel=1e-3, abs=0.1)
            assert row["characters_per_second"] > 0
        naive = [row for row in rows if row["method"] == "keras_naive"]
        assert len(naive) == len(BATCHES) and len(rows) == len(BATCHES) * (3 * len(threads) + 1)
        assert set(result["speedups"]) == {f"seqlab_over_{row['method']}_batch_{row['batch']}_threads_"
                                           f"{row['blas_threads']}" for row in rows if row["method"] != "seqlab"}
    assert set(report["goals_met"]) == {"batch_1", "batch_8_total", "best_seqlab_characters_per_second"}
    assert any("tiny gru" in line for line in lines)


def test_cli_writes_the_json_it_prints(tiny_run, tmp_path, monkeypatch, capsys):
    """The command prints and writes the benchmark's report (the measuring itself is tested above)."""
    monkeypatch.setattr(generation, "run_benchmark", lambda quick, progress: {**tiny_run[0], "quick": quick})
    out = tmp_path / "bench" / "generation.json"
    assert main(["generation", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert json.loads(printed) == json.loads(out.read_text()) and json.loads(printed)["quick"] is False
    assert main(["generation", "--quick", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
