"""The Inside the network page on real tiny runs trained in-process: the heatmap, the gates, the top units, the
influence strip and a click on a character, the reach chart with another run overlaid, and the messages."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO
from tests.tiny_runs import train_tiny, write_generation_text

PAGE = str(REPO / "pages" / "inside.py")
TINY = dict(units=16, embedding_dim=8, sequence_length=20, batch_size=8, max_steps=12)
LSTM, SIMPLE = "20260101-000001-generate-lstm-inside", "20260101-000000-generate-simple_rnn-inside"


@pytest.fixture(scope="module")
def trained_root(tmp_path_factory) -> Path:
    """A runs root with a tiny LSTM (the newest, shown first) and a tiny SimpleRNN, both on a Hamlet excerpt."""
    root = tmp_path_factory.mktemp("inside-runs")
    corpus = write_generation_text(root.parent)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEQLAB_RUNS", str(root))
        train_tiny(root, SIMPLE, "generate", corpus, cell="simple_rnn", **TINY)
        train_tiny(root, LSTM, "generate", corpus, cell="lstm", **TINY)
    return root


@pytest.fixture
def runs_root(trained_root, monkeypatch) -> Path:
    monkeypatch.setenv("SEQLAB_RUNS", str(trained_root))
    return trained_root


def open_page(run_id: str | None = None) -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=90)
    if run_id:
        app.query_params["run"] = run_id
    return app.run()


def charts(app: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


def array(value) -> np.ndarray:
    """A Plotly array from a chart's JSON: a list, or {"bdata", "dtype", "shape"} (base64)."""
    if isinstance(value, dict):
        shape = tuple(int(size) for size in str(value.get("shape", "-1")).split(","))
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).reshape(shape)
    return np.asarray(value)


def influence_line(app: AppTest) -> str:
    return next(element.value for element in app.markdown if element.value.startswith("**Character "))


def strip(app: AppTest) -> dict:
    return next(spec for spec in charts(app) if any("back" in str(tick) for tick in
                                                    spec["layout"].get("xaxis", {}).get("ticktext", [])))


def test_the_page_shows_units_gates_top_units_influence_and_reach(runs_root):
    from seqlab.ui import inside_view

    app = open_page()
    assert not app.exception and not app.error and not app.warning
    assert app.selectbox[0].value == LSTM
    assert [header.value for header in app.subheader] == [
        "What the units hold", "Units that follow something in the text", "What a prediction looked back at",
        "How far back it looks"]
    text = app.text_area(key=inside_view.PASSAGE_KEY).value
    assert text.startswith("The Tragedie of Hamlet\n")  # the excerpt has no 'U': its own start stands in
    specs = charts(app)
    heatmap = specs[0]["data"][0]
    assert heatmap["type"] == "heatmap" and heatmap["zmin"] == -1 and heatmap["zmax"] == 1
    assert array(heatmap["z"]).shape == (12, 60)
    assert all(name.startswith("unit ") for name in specs[0]["layout"]["yaxis"]["ticktext"])
    assert specs[0]["layout"]["xaxis"]["ticktext"][:9] == list("The␣Trage")
    titles = [annotation["text"] for annotation in specs[1]["layout"]["annotations"]]
    assert {"How much it keeps", "How much it writes", "How much it shows"} <= set(titles)
    follows = [element.value for element in app.markdown if " follows " in element.value]
    assert follows and "Layer 1 · unit" in follows[0] and "(r = " in follows[0]
    assert f"Character {len(text)}:" in influence_line(app) and "Half of what decided this" in influence_line(app)
    assert array(strip(app)["data"][0]["z"]).size == min(len(text) - 1, inside_view.STRIP_WINDOW)
    reach = specs[-1]  # this run and, side by side from the start, the newest run of another cell type
    assert [line["name"].split(" · ")[0] for line in reach["data"]] == [LSTM, SIMPLE]
    assert reach["layout"]["xaxis"]["type"] == "log"
    assert sum("half of what it uses comes from the last" in element.value for element in app.markdown) == 2


def test_a_click_on_a_character_explains_that_prediction(runs_root):
    from seqlab.ui.inside_view import POSITION_KEY

    app = open_page()
    before = array(strip(app)["data"][0]["z"])
    app.session_state[POSITION_KEY] = 12  # as the clickable text's on_select callback keeps it
    app.run()
    assert not app.exception
    assert influence_line(app).startswith("**Character 13:")
    after = array(strip(app)["data"][0]["z"])
    assert after.size == 12 and after.shape != before.shape
    tinted = charts(app)[-3]["data"][0]["marker"]["color"]  # the clickable passage: the clicked character is blue
    assert tinted[12] == "#90caf9"


def test_simple_rnn_has_no_gates_and_the_overlaid_runs_can_be_chosen(runs_root):
    from seqlab.ui.inside_view import COMPARE_KEY, NO_GATES

    app = open_page(SIMPLE)
    assert not app.exception and not app.error
    assert any(element.value == NO_GATES for element in app.info)
    assert app.multiselect(key=COMPARE_KEY).value == [LSTM]
    reach = charts(app)[-1]
    assert len(reach["data"]) == 2 and "SimpleRNN" in reach["data"][0]["name"] and "LSTM" in reach["data"][1]["name"]
    app.multiselect(key=COMPARE_KEY).set_value([]).run()
    assert not app.exception
    assert len(charts(app)[-1]["data"]) == 1
    assert sum("half of what it uses" in element.value for element in app.markdown) == 1


def test_characters_the_model_never_saw_are_a_plain_message(runs_root):
    from seqlab.ui.inside_view import PASSAGE_KEY

    app = open_page()
    app.text_area(key=PASSAGE_KEY).input("Hamlet ☃ and €").run()
    assert not app.exception and not app.error
    assert "“☃”" in app.warning[0].value and "“€”" in app.warning[0].value
    assert not app.get("plotly_chart")
    app.button[0].click().run()  # back to the sample passage: no dead end
    assert not app.exception and not app.warning and app.get("plotly_chart")


def test_the_text_the_generate_page_wrote_can_be_used(runs_root):
    from seqlab.ui.generate_view import RESULT_KEY
    from seqlab.ui.inside_view import PASSAGE_KEY

    app = AppTest.from_file(PAGE, default_timeout=90)
    app.session_state[RESULT_KEY] = {"run": LSTM, "options": {"seed": "HAMLET:\n"}, "texts": ["To be, or not"]}
    app.run()
    button = next(button for button in app.button if button.label == "Use text I generated")
    button.click().run()
    assert not app.exception
    assert app.text_area(key=PASSAGE_KEY).value == "HAMLET:\nTo be, or not"
    assert influence_line(app).startswith("**Character 21:")


def test_no_runs_explains_and_points_to_train(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_RUNS", str(tmp_path / "empty-runs"))
    app = open_page()
    assert not app.exception
    assert "no trained text generation model yet" in app.info[0].value.lower()
    assert any("Train" in element.value for element in app.markdown)
    assert not app.text_area


def test_choices_a_shorter_passage_or_smaller_run_cannot_take_start_afresh(runs_root):
    """The heatmap's window moved to the end of a long passage, then a short passage: the window starts again at
    the first character instead of failing; the same for a unit count the other run does not have."""
    from seqlab.ui.inside_view import PASSAGE_KEY, START_KEY, UNITS_KEY

    app = open_page()
    long = app.text_area(key=PASSAGE_KEY).value
    app.slider(key=START_KEY).set_value(len(long) - 60 + 1).run()
    assert not app.exception
    app.text_area(key=PASSAGE_KEY).input(long[:80]).run()
    assert not app.exception and app.slider(key=START_KEY).value == 1
    app.session_state[UNITS_KEY] = 99  # more than a 16-unit layer has
    app.run()
    assert not app.exception and app.slider(key=UNITS_KEY).value == 12
