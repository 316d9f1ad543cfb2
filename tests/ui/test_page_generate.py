"""The Generate page on a real tiny run trained in-process: streamed text, seed errors, run choice, no runs."""

from __future__ import annotations

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
    assert [metric.label for metric in app.metric] == ["Corpus", "Cell", "Best validation loss", "State"]
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
    assert widget(app.slider, "Position in the new text").max == 57  # the "why this character?" chart
    assert app.get("plotly_chart")

    app.toggle[0].set_value(True).run()  # colouring re-renders the kept text: no new generation
    assert not app.exception and not app.code
    assert any(":red[" in element.value or ":orange[" in element.value for element in app.markdown)


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


def test_coloured_markdown_escapes_and_colours_by_probability():
    from seqlab.ui.generate_view import coloured_markdown

    assert coloured_markdown("#", "*_a\nb", [0.05, 0.2, 0.9, 0.9, 0.01]) == \
        "\\#:red[\\*]:orange[\\_]a  \n:red[b]"
    assert coloured_markdown("", "  x", [0.9, 0.9, 0.9]) == "\u00a0\u00a0x"  # spaces markdown would swallow
    assert coloured_markdown("", "a b", [0.05, 0.9, 0.05]) == ":red[a] :red[b]"  # a plain space still wraps
