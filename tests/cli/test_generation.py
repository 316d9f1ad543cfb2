"""`python -m seqlab generate` and `score` on tiny trained runs.

Most calls go through seqlab.cli.main in this process (TensorFlow loads once); one runs the real command in a
subprocess, so the exit code and stderr are checked as a person sees them.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from seqlab.presets import default_configs
from seqlab.runs import run_folder
from tests.conftest import REPO
from tests.tiny_runs import CLASSIFY_TINY, GENERATE_TINY, train_tiny, write_generation_text, write_review_table


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("cli")
    root = folder / "runs"
    root.mkdir()
    unfinished = run_folder.create_run_folder(root / "not-trained-yet", *default_configs("generate", **GENERATE_TINY))
    table = write_review_table(folder)
    return {"root": root, "folder": folder, "unfinished": unfinished,
            "generate": train_tiny(root, "tiny-generate", "generate", write_generation_text(folder), **GENERATE_TINY),
            "classify": train_tiny(root, "tiny-classify", "classify", table, **CLASSIFY_TINY),
            "attention": train_tiny(root, "tiny-attention", "classify", table, **CLASSIFY_TINY, pooling="attention")}


@pytest.fixture(autouse=True)
def root(trained, monkeypatch):
    monkeypatch.setenv("SEQLAB_RUNS", str(trained["root"]))
    return trained["root"]


def seqlab(capsys, *args) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `python -m seqlab ARGS`, run in this process."""
    from seqlab.cli.main import main

    try:
        code = main([str(arg) for arg in args])
    except SystemExit as exit:  # argparse's own errors
        code = exit.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(result, *fragments):
    code, _, err = result
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def generated(capsys, run, *options) -> str:
    code, out, err = seqlab(capsys, "generate", run, *options)
    assert code == 0, err
    assert out.endswith("\n")
    return out[:-1]


def test_generate_prints_seed_and_length_characters(trained, capsys):
    text = generated(capsys, trained["generate"], "--seed", "HAMLET:", "--length", 120, "--random-seed", 1)
    assert text.startswith("HAMLET:") and len(text) == len("HAMLET:") + 120
    by_id = generated(capsys, "tiny-generate", "--seed", "HAMLET:", "--length", 120, "--random-seed", 1)
    assert by_id == text  # a run id resolves to the same run; the same random seed repeats the text


def test_random_seed_top_k_and_greedy(trained, capsys):
    run, base = trained["generate"], ["--seed", "The ", "--length", 200, "--temperature", 1.5]
    first = generated(capsys, run, *base, "--random-seed", 1)
    assert generated(capsys, run, *base, "--random-seed", 2) != first
    greedy = generated(capsys, run, *base, "--greedy")
    assert generated(capsys, run, *base, "--top-k", 1, "--random-seed", 5) == greedy
    assert greedy != first


def test_generate_several_variations(trained, capsys):
    text = generated(capsys, trained["generate"], "--seed", "To be", "--length", 50, "--num", 3,
                     "--random-seed", 4)
    parts = text.split("\n")
    headers = [index for index, line in enumerate(parts) if line.startswith("=== variation ")]
    assert [parts[index] for index in headers] == [f"=== variation {i}/3 ===" for i in (1, 2, 3)]
    variations = ["\n".join(parts[a + 1:b]) for a, b in zip(headers, headers[1:] + [len(parts)])]
    assert all(v.startswith("To be") and len(v) == len("To be") + 50 for v in variations)
    assert len(set(variations)) > 1


def test_generate_streams(trained, monkeypatch):
    """The seed is written and flushed first, then every chunk of characters as soon as it is drawn."""
    from seqlab.cli.main import main

    class Recorder:
        def __init__(self):
            self.events: list[str] = []

        def write(self, text: str) -> None:
            self.events.append(text)

        def flush(self) -> None:
            self.events.append("<flush>")

    recorder = Recorder()
    monkeypatch.setattr(sys, "stdout", recorder)
    assert main(["generate", str(trained["generate"]), "--seed", "KING", "--length", "200"]) == 0
    assert recorder.events[:2] == ["KING", "<flush>"]
    written = [event for event in recorder.events if event != "<flush>"]
    assert len(written) >= 1 + 200 // 32 and recorder.events.count("<flush>") >= len(written) - 1
    assert len("".join(written)) == len("KING") + 200 + 1


def test_generate_errors_exit_2_with_one_line(trained, capsys):
    run = trained["generate"]
    assert_one_line_error(seqlab(capsys, "generate", run, "--seed", "ROMEO\u00e6\u00df"), "never saw", "'æ'")
    assert_one_line_error(seqlab(capsys, "generate", run, "--temperature", 0), "--temperature is 0.0")
    assert_one_line_error(seqlab(capsys, "generate", run, "--temperature", -1), "above 0")
    assert_one_line_error(seqlab(capsys, "generate", run, "--top-p", 0), "top_p is 0.0")
    assert_one_line_error(seqlab(capsys, "generate", run, "--length", 0), "length is 0")
    assert_one_line_error(seqlab(capsys, "generate", run, "--length", "many"), "invalid int value")
    assert_one_line_error(seqlab(capsys, "generate", trained["folder"]), "is not a seqlab run folder")
    assert_one_line_error(seqlab(capsys, "generate", "no-such-run"), "is not a seqlab run folder")
    assert_one_line_error(seqlab(capsys, "generate", trained["classify"]), "is a classify run")
    assert_one_line_error(seqlab(capsys, "generate", trained["unfinished"]), "has no model.keras yet")


def test_a_run_outside_the_root_exits_2(trained, capsys, tmp_path):
    outside = tmp_path / "copied"
    shutil.copytree(trained["generate"], outside)
    assert_one_line_error(seqlab(capsys, "generate", outside), "is not a run of the runs root")
    assert_one_line_error(seqlab(capsys, "score", trained["classify"], "good", "--runs-root", tmp_path),
                          "is not a run of the runs root")


def scorer(run):
    from seqlab.infer.scoring import ReviewScorer

    return ReviewScorer.from_run(run)


def test_score_texts(trained, capsys):
    texts = ["a good film, really good", "a bad film, awful"]
    code, out, err = seqlab(capsys, "score", trained["classify"], *texts)
    assert code == 0, err
    expected = scorer(trained["classify"]).probabilities(texts)
    lines = out.strip().splitlines()
    assert len(lines) == 2
    for line, text, probability in zip(lines, texts, expected):
        value, label, shown = line.split(maxsplit=2)
        assert float(value) == pytest.approx(float(probability), abs=1e-4) and shown == text
        assert label == ("positive" if probability > 0.5 else "negative")
    code, out, _ = seqlab(capsys, "score", "tiny-classify", *texts, "--json")
    rows = json.loads(out)
    assert [row["text"] for row in rows] == texts
    np.testing.assert_allclose([row["probability_positive"] for row in rows], expected, atol=1e-6)


def test_score_explain(trained, capsys):
    text = "A good film,  really   awful"
    code, out, err = seqlab(capsys, "score", trained["classify"], text, "--explain", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert [text[w["start"]:w["end"]] for w in result["words"]] == ["A", "good", "film,", "really", "awful"]
    assert [w["word"] for w in result["words"]] == text.split()
    code, out, _ = seqlab(capsys, "score", trained["classify"], text, "--explain")
    lines = out.splitlines()
    assert lines[0].split()[0] == f"{result['probability_positive']:.4f}" and len(lines) == 1 + 5
    assert lines[2].split() == [f"{result['words'][1]['contribution']:+.4f}", "good"]


def test_score_explain_prints_attention_beside_the_effect(trained, capsys):
    """A model trained with --pooling attention: each word's attention weight (they sum to 1) beside its effect."""
    from seqlab.cli.main import build_parser

    assert build_parser().parse_args(["train", "--task", "classify", "--pooling", "attention"]).pooling == "attention"
    text = "A good film,  really   awful"
    code, out, err = seqlab(capsys, "score", trained["attention"], text, "--explain", "--json")
    assert code == 0, err
    words = json.loads(out)["words"]
    assert [w["word"] for w in words] == text.split()
    assert sum(w["attention"] for w in words) == pytest.approx(1.0, abs=1e-4)
    code, out, _ = seqlab(capsys, "score", trained["attention"], text, "--explain")
    lines = out.splitlines()
    assert len(lines) == 2 + 5 and "attention" in lines[1] and "effect" in lines[1]
    assert lines[3].split() == [f"{words[1]['contribution']:+.4f}", f"{words[1]['attention']:.4f}", "good"]


def test_score_file(trained, capsys, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("review,id\n\"good, good film\",1\nawful film,2\n", encoding="utf-8")
    code, _, err = seqlab(capsys, "score", trained["classify"], "--file", source, "--out", tmp_path / "out.csv")
    assert code == 0 and "scored 2 rows" in err, err
    with open(tmp_path / "out.csv", encoding="utf-8", newline="") as file:
        table = list(csv.DictReader(file))
    assert [row["id"] for row in table] == ["1", "2"]
    expected = scorer(trained["classify"]).probabilities(["good, good film", "awful film"])
    np.testing.assert_allclose([float(row["probability_positive"]) for row in table], expected, atol=1e-6)


def test_score_errors_exit_2_with_one_line(trained, capsys, tmp_path):
    run = trained["classify"]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(("text\n" + "Привет мир, это тест текста на русском языке.\n" * 20).encode("cp1251"))
    assert_one_line_error(seqlab(capsys, "score", trained["generate"], "good"), "is a generate run")
    assert_one_line_error(seqlab(capsys, "score", run), "Nothing to score")
    assert_one_line_error(seqlab(capsys, "score", run, "  "), "Text 1 of 1 is empty")
    assert_one_line_error(seqlab(capsys, "score", run, "good", "bad", "--explain"), "--explain explains one text")
    assert_one_line_error(seqlab(capsys, "score", run, "--file", bad), "--file needs --out")
    assert_one_line_error(seqlab(capsys, "score", run, "good", "--out", tmp_path / "x.csv"), "only apply with --file")
    assert_one_line_error(seqlab(capsys, "score", run, "--file", bad, "--out", tmp_path / "o.csv"), "not valid UTF-8")
    assert_one_line_error(seqlab(capsys, "score", trained["unfinished"], "good"), "has no model.keras yet")


TENSORFLOW_NATIVE_LOG = re.compile(r"^(WARNING: All log messages before absl|[IWE]\d{4} )")


def test_score_error_in_a_real_process(trained):
    result = subprocess.run([sys.executable, "-m", "seqlab", "score", str(trained["generate"]), "good"],
                            capture_output=True, text=True, cwd=REPO, timeout=120,
                            env={**os.environ, "SEQLAB_RUNS": str(trained["root"])})
    # TensorFlow's C++ start-up lines cannot be silenced before absl initialises; seqlab's own output is one line
    ours = "".join(line for line in result.stderr.splitlines(keepends=True) if not TENSORFLOW_NATIVE_LOG.match(line))
    assert_one_line_error((result.returncode, result.stdout, ours), "is a generate run")
