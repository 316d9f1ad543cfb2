"""`python -m seqlab inspect-run` on a tiny trained run: readable lines, complete JSON, one-line errors."""

from __future__ import annotations

import json

import pytest

from seqlab.presets import default_configs
from seqlab.runs import run_folder
from tests.tiny_runs import GENERATE_TINY, train_tiny, write_generation_text

TEXT = "HAMLET:\nTo be, or not to be"


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("insight")
    root = folder / "runs"
    root.mkdir()
    run_folder.create_run_folder(root / "tiny-classify", *default_configs("classify"))  # refused before its model loads
    run_folder.create_run_folder(root / "tiny-transformer", *default_configs("generate", cell="transformer"))  # too
    return {"root": root,
            "generate": train_tiny(root, "tiny-generate", "generate", write_generation_text(folder), **GENERATE_TINY)}


@pytest.fixture(autouse=True)
def root(trained, monkeypatch):
    monkeypatch.setenv("SEQLAB_RUNS", str(trained["root"]))
    return trained["root"]


def seqlab(capsys, *args) -> tuple[int, str, str]:
    from seqlab.cli.main import main

    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_holds_states_gates_units_and_influence(capsys):
    code, out, err = seqlab(capsys, "inspect-run", "tiny-generate", "--text", TEXT, "--position", "10", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["text"] == TEXT and result["cell"] == "lstm"
    layer = result["layers"][0]
    assert len(layer["hidden"]) == len(TEXT) and len(layer["hidden"][0]) == GENERATE_TINY["units"]
    assert set(layer["gates"]) == {"kept", "written", "shown"} and len(layer["memory"]) == len(TEXT)
    assert all(value == round(value, 4) for value in layer["hidden"][3])
    assert len(result["top_units"]) == 5 and {"layer", "unit", "feature", "correlation"} <= set(result["top_units"][0])
    found = result["influence"]
    assert found["position"] == 10 and found["predicted"] == TEXT[11] and found["predicted_is"] == "the next character"
    assert len(found["values"]) == len(TEXT) and all(value == 0 for value in found["values"][11:])
    spread = result["influence_by_distance"]
    assert spread["source"] == "the validation part of hamlet-excerpt.txt" and spread["windows"] == 64
    assert sum(spread["share"]) == pytest.approx(1, abs=1e-3) and 1 <= spread["reach"] <= spread["length"]
    assert result["predictions"][-1]["next"] is None


def test_human_output_is_a_few_readable_lines(capsys):
    code, out, err = seqlab(capsys, "inspect-run", "tiny-generate", "--text", TEXT, "--top", "2")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) <= 8, out
    assert lines[0] == f"{len(TEXT)} characters through a lstm model (1 layer(s) of 16 units)."
    assert lines[1].startswith(f"After 'e' at position {len(TEXT) - 1} the model expected ")
    assert sum(line.startswith("  Layer 1 unit ") and " follows \"" in line for line in lines) == 2
    assert "(the model's top guess)" in out and "half of the influence on a prediction comes from the last" in out


@pytest.mark.parametrize("args, fragments", [
    (["tiny-classify", "--text", "good"], ["tiny-classify is a classify run", "cannot be looked inside",
                                           "`python -m seqlab score`"]),
    (["tiny-transformer", "--text", "To be"], ["A Transformer has no memory carried from character to character",
                                               "looks back with attention instead", "SimpleRNN, LSTM or GRU run"]),
    (["tiny-generate", "--text", "To be", "--position", "5"], ["position is 5", "from 0 to 4"]),
    (["tiny-generate", "--text", "To be ~~"], ["never saw", "'~'"]),
    (["tiny-generate", "--text", "To be", "--top", "0"], ["top is 0"]),
])
def test_mistakes_are_one_line_errors(capsys, args, fragments):
    code, _, err = seqlab(capsys, "inspect-run", *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in err, err
