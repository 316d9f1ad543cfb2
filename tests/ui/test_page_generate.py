"""The Generate page on a real tiny run trained in-process: streamed text, seed errors, run choice, no runs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from seqlab.runs import run_folder
from tests.conftest import REPO
from tests.tiny_runs import train_tiny, write_generation_text

PAGE = str(REPO / "pages" / "generate.py")
TINY = dict(units=16, embedding_dim=8, sequence_length=20, batch_size=8, max_steps=20)


@pytest.fixture(scope="module")
def trained_root(tmp_path_factory) -> Path:
    """A runs root holding one finished generation run (a few thousand characters of Hamlet, 20 steps)."""
    root = tmp_path_factory.mktemp("generate-runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEQLAB_RUNS", str(root))
        train_tiny(root, "20260101-000000-generate-lstm-test", "generate", write_generation_text(root.parent), **TINY)
    return root


@pytest.fixture
def runs_root(trained_root, monkeypatch) -> Path:
    monkeypatch.setenv("SEQLAB_RUNS", str(trained_root))
    return trained_root


def widget(elements, label: str):
    return next(element for element in elements if element.label == label)


def open_page(run_id: str | None = None) -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60)
    if run_id:
        app.query_params["run"] = run_id
    return app.run()


def test_generates_text_that_starts_with_the_seed_and_has_the_requested_length(runs_root):
    app = open_page()
    assert not app.exception
    run_id = next(path.name for path in runs_root.iterdir() if path.is_dir())
    assert app.selectbox[0].value == run_id and app.query_params["run"] == run_id
    assert [metric.label for metric in app.metric] == ["Guesses the next character right",
                                                       "As unsure as choosing between"]
    assert app.metric[0].value.endswith("%") and app.metric[1].value.endswith(" characters")
    assert any("LSTM · 1 layer × 16 units · trained on" in m.value.replace("\\", "") for m in app.markdown)
    summary = next(caption.value for caption in app.caption if "never trained on" in caption.value)
    assert "guesses the next character right" in summary and "nats" not in summary
    widget(app.text_area, "Seed text").input("The ")
    widget(app.number_input, "Characters to write").set_value(57)
    widget(app.number_input, "Variations").set_value(2)
    widget(app.number_input, "Random seed").set_value(3)
    app.toggle[0].set_value(False)
    widget(app.button, "Generate").click()
    app.run()
    assert not app.exception and not app.error
    texts = [element.value for element in app.code]
    assert len(texts) == 2 and all(text.startswith("The ") and len(text) == 4 + 57 for text in texts)
    assert texts[0] != texts[1]  # two variations drawn from one random generator
    assert len(app.get("plotly_chart")) == 2  # the clickable text and the "why this character?" bars
    assert "#ffcdd2" not in app.get("plotly_chart")[0].proto.spec  # colouring off: the character map is untinted
    assert "Character 1: after" in app.markdown[-1].value

    app.toggle[0].set_value(True).run()  # colouring re-renders the kept text: no new generation
    assert not app.exception and not app.code
    assert any(":red[" in element.value or ":orange[" in element.value for element in app.markdown)
    assert "#ffcdd2" in app.get("plotly_chart")[0].proto.spec  # and the character map is tinted alike


def test_same_random_seed_gives_the_same_text(runs_root):
    outputs = []
    for _ in range(2):
        app = open_page()
        widget(app.text_area, "Seed text").input("O")
        widget(app.number_input, "Random seed").set_value(11)
        app.toggle[0].set_value(False)
        widget(app.button, "Generate").click()
        outputs.append(app.run().code[0].value)
    assert outputs[0] == outputs[1] and len(outputs[0]) == 1 + 400


def test_seed_with_unknown_characters_names_them(runs_root):
    app = open_page()
    widget(app.text_area, "Seed text").input("Hamlet ☃ and €")
    widget(app.button, "Generate").click()
    app.run()
    assert not app.exception
    assert "'☃'" in app.error[0].value and "'€'" in app.error[0].value
    assert not app.code


def test_bad_run_in_the_address_is_an_error_and_another_run_is_shown(runs_root):
    app = open_page("../../etc")
    assert not app.exception
    assert "not a valid run id" in app.error[0].value
    assert app.selectbox[0].value  # the newest usable run instead


def test_no_runs_explains_and_points_to_train(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_RUNS", str(tmp_path / "empty-runs"))
    app = open_page()
    assert not app.exception
    assert "no trained text generation model yet" in app.info[0].value.lower()
    assert any("Train" in element.value for element in app.markdown)
    assert not app.selectbox and not app.button


def test_one_loaded_model_is_shared_and_a_retrained_one_reloads(runs_root):
    import keras

    from seqlab.model.builder import SeqlabModel
    from seqlab.ui.loaded_runs import sampler_for

    source = next(path for path in runs_root.iterdir() if path.is_dir())
    copy = runs_root / "20260101-000001-generate-lstm-copy"
    shutil.copytree(source, copy)
    first = sampler_for(copy)
    assert sampler_for(copy) is first  # every session gets the same loaded model
    model = keras.saving.load_model(copy / run_folder.BEST_MODEL, compile=False,
                                    custom_objects={"SeqlabModel": SeqlabModel})
    model.layers[-1].set_weights([w + 1.0 for w in model.layers[-1].get_weights()])
    model.save(copy / run_folder.BEST_MODEL)  # as the trainer does when validation improves
    run_folder.record_checksum(copy, run_folder.BEST_MODEL)
    second = sampler_for(copy)
    assert second is not first
    assert not np.allclose(second.model.output_bias, first.model.output_bias)
    shutil.rmtree(copy)


def test_coloured_markdown_escapes_and_colours():
    from seqlab.ui.generate_view import coloured_markdown

    assert coloured_markdown("#", "*_a\nb", ["red", "orange", None, None, "red"]) == \
        "\\#:red[\\*]:orange[\\_]a  \n:red[b]"
    assert coloured_markdown("", "  x", [None] * 3) == "\u00a0\u00a0x"  # spaces markdown would swallow
    assert coloured_markdown("", "a b", ["red", None, "red"]) == ":red[a] :red[b]"  # a plain space still wraps


def generated(runs_root, length: int = 120, num: int = 1, colour: bool = True) -> AppTest:
    app = open_page()
    widget(app.text_area, "Seed text").input("The ")
    widget(app.number_input, "Characters to write").set_value(length)
    widget(app.number_input, "Variations").set_value(num)
    widget(app.number_input, "Random seed").set_value(5)
    app.toggle[0].set_value(colour)
    widget(app.button, "Generate").click()
    app.run()
    assert not app.exception and not app.error
    return app


def test_every_way_of_picking_says_what_it_does_in_a_visible_line(runs_root):
    app = open_page()
    captions = " ".join(caption.value for caption in app.caption)
    for name in ("Temperature:", "Top-k:", "Top-p:", "Greedy:"):
        assert name in captions
    assert widget(app.number_input, "Pick among the k likeliest (0 = all)").value == 0
    assert widget(app.slider, "Pick among the likeliest share (top-p)").value == 1.0


def test_colours_follow_the_young_models_own_scale(runs_root):
    """A 20-step model is unsure of nearly everything: on a fixed scale its whole text would be red. On its own
    scale about a tenth is red and a fifth orange, and the caption gives the numbers."""
    from seqlab.ui.generate_view import RESULT_KEY

    app = generated(runs_root, length=300)
    probabilities = app.session_state[RESULT_KEY]["probabilities"][0]
    assert sum(p < 0.5 for p in probabilities) > 0.5 * len(probabilities)  # a young, unsure model
    text = next(element.value for element in app.markdown if ":red[" in element.value)
    red = sum(len(piece) for piece in re.findall(r":red\[((?:\\.|[^\]])*)\]", text))
    orange = sum(len(piece) for piece in re.findall(r":orange\[((?:\\.|[^\]])*)\]", text))
    assert 0 < red < 0.2 * 300 and 0 < orange < 0.35 * 300  # escapes count double: a loose upper bound
    caption = next(caption.value for caption in app.caption if "usual confidence" in caption.value)
    assert "least expected tenth" in caption and "%" in caption


def test_confidence_scale_is_relative_and_strict():
    from seqlab.ui.character_map import confidence_scale

    young = confidence_scale([[0.01 * (i % 10 + 1) for i in range(100)]])
    colours = [young.colour(0.01 * (i % 10 + 1)) for i in range(100)]
    assert colours.count("red") == 10 and colours.count("orange") == 20  # 1%, then 2% and 3%
    sure = confidence_scale([[0.9] * 50])
    assert {sure.colour(0.9)} == {None}  # equally sure of everything: nothing is singled out
    assert confidence_scale([]).colour(0.5) is None


def test_clicking_a_character_explains_it(runs_root):
    """A click on the character map keeps (variation, index) under POSITION_KEY, as the chart's callback does."""
    from seqlab.ui.character_map import POSITION_KEY
    from seqlab.ui.generate_view import RESULT_KEY

    app = generated(runs_root, length=60, num=2)
    result = app.session_state[RESULT_KEY]
    assert "Character 1: after “The ”" in app.markdown[-1].value.replace("\\", "")
    app.session_state[POSITION_KEY] = {"variation": 1, "index": 9}
    app.run()
    assert not app.exception
    chosen = result["texts"][1][9]
    line = app.markdown[-1].value
    assert line.startswith("Character 10: after") and "chance" in line
    assert app.radio[0].value == 1  # the clicked variation is the one explained
    bars = app.get("plotly_chart")[-1].proto.spec
    assert '"#2e7d32"' in bars or chosen not in [c for c, _ in result["alternatives"][1][9]]
    app.session_state[POSITION_KEY] = {"variation": 0, "index": 10_000}  # a stale click: the first character
    app.run()
    assert app.markdown[-1].value.startswith("Character 1:")


def test_a_chart_selection_picks_only_new_text():
    from seqlab.ui.character_map import clicked_index, layout

    point = {"curve_number": 0, "point_index": 4, "point_number": 4, "x": 4, "y": 0}
    assert clicked_index({"points": [point]}, 10) == 4
    assert clicked_index({"points": [{**point, "curve_number": 1}]}, 10) is None  # the seed
    assert clicked_index({"points": [point]}, 3) is None and clicked_index({}, 3) is None
    assert layout("ab\ncd", start=1) == [(1, 0), (2, 0), (3, 0), (0, 1), (1, 1)]
    assert layout("x" * 81)[-1] == (0, 1)  # wraps at 80 characters
