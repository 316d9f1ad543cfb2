"""The Score reviews page on a real tiny classifier trained in-process: one review, a CSV file, an evaluation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO
from tests.tiny_runs import train_tiny

PAGE = str(REPO / "pages" / "score.py")
TINY = dict(cell="gru", units=8, embedding_dim=8, vocabulary_size=100, sequence_length=16, batch_size=16,
            epochs=3, max_steps=30, learning_rate=1e-2)


@pytest.fixture(scope="module")
def trained_root(tmp_path_factory) -> Path:
    """A runs root holding one finished classification run on 160 short made-up reviews."""
    root = tmp_path_factory.mktemp("score-runs")
    rows = ["text,label"] + [f'"a good film {i}, really great and wonderful",pos' for i in range(80)] + [
        f'"a bad film {i}, boring and awful",neg' for i in range(80)]
    corpus = root.parent / "tiny-reviews.csv"
    corpus.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEQLAB_RUNS", str(root))
        train_tiny(root, "20260101-000000-classify-gru-test", "classify", corpus, **TINY)
    return root


@pytest.fixture
def run_dir(trained_root, monkeypatch) -> Path:
    monkeypatch.setenv("SEQLAB_RUNS", str(trained_root))
    return next(path for path in trained_root.iterdir() if path.is_dir())


def widget(elements, label: str):
    return next(element for element in elements if element.label == label)


def open_page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=90).run()


def test_a_review_gets_a_probability_gauge_and_coloured_words(run_dir):
    from seqlab.infer.scoring import ReviewScorer

    app = open_page()
    assert not app.exception
    assert app.selectbox[0].value == run_dir.name and app.query_params["run"] == run_dir.name
    assert [tab.label for tab in app.tabs] == ["One review", "A file of reviews", "Evaluate on a test set"]
    # the run in plain words: accuracy first, the model in the Train page's words on a line of its own (never cut)
    assert [metric.label for metric in app.metric][:2] == ["Reviews right", "State"]
    assert widget(app.metric, "Reviews right").value.endswith("%")
    assert any("GRU · 1 layer × 8 units · trained on" in m.value.replace("\\", "") for m in app.markdown)
    text = "a really great and wonderful film"
    widget(app.text_area, "Review").input(text)
    widget(app.button, "Score the review").click()
    app.run()
    assert not app.exception and not app.error
    shown = next(m.value for m in app.markdown if "P(positive)" in m.value)
    probability = float(re.search(r"P\(positive\) = ([0-9.]+)", shown).group(1))
    assert probability == pytest.approx(float(ReviewScorer.from_run(run_dir).probabilities([text])[0]), abs=1e-3)
    assert ("Positive" if probability > 0.5 else "Negative") in shown
    assert app.get("plotly_chart")  # the gauge
    assert any("wonderful" in m.value for m in app.markdown)  # the review, word by word
    assert any("leave-one-out" in c.value for c in app.caption)  # the legend names the method


def test_an_empty_review_is_an_error_not_a_traceback(run_dir):
    app = open_page()
    widget(app.text_area, "Review").input("   ")
    widget(app.button, "Score the review").click()
    app.run()
    assert not app.exception and app.error


def test_an_uploaded_csv_is_scored_into_a_table_with_a_download(run_dir):
    app = open_page()
    reviews = b"review\ngreat and wonderful\nboring and awful\nreally good\n"
    app.file_uploader[0].set_value(("mine.csv", reviews, "text/csv"))
    app.run()
    widget(app.button, "Score the file").click()
    app.run()
    assert not app.exception and not app.error
    table = app.dataframe[0].value
    assert list(table["review"]) == ["great and wonderful", "boring and awful", "really good"]
    assert table["probability_positive"].between(0, 1).all()
    assert set(table["predicted_label"]) <= {"positive", "negative"}
    assert app.download_button and app.download_button[0].label == "Download the scored file"


def test_a_file_without_text_is_an_error(run_dir):
    app = open_page()
    app.file_uploader[0].set_value(("numbers.csv", b"a,b\n1,2\n3,4\n", "text/csv"))
    app.run()
    widget(app.button, "Score the file").click()
    app.run()
    assert not app.exception and app.error


def test_evaluate_on_the_runs_own_validation_split(run_dir):
    app = open_page()
    assert widget(app.selectbox, "Part").value == "validation"  # no imdb-full in the test cache
    assert any("imdb-full" in block.value and "Data page" in block.value for block in app.markdown)  # one click away
    widget(app.button, "Evaluate").click()
    app.run()
    assert not app.exception and not app.error
    accuracy = widget(app.metric, "Accuracy").value
    assert accuracy.endswith("%") and 0 <= float(accuracy[:-1]) <= 100
    assert len(app.get("plotly_chart")) >= 1  # the confusion matrix


def test_no_runs_explains_and_points_to_train(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_RUNS", str(tmp_path / "empty-runs"))
    app = open_page()
    assert not app.exception
    assert "no trained review sentiment model yet" in app.info[0].value.lower()
    assert not app.tabs


def test_coloured_review_keeps_the_text_and_colours_words_by_contribution():
    from seqlab.infer.scoring import WordContribution
    from seqlab.ui.score_view import coloured_review

    text = "Great  film [sic], dull end."
    contributions = [WordContribution("Great", 0, 5, 0.2), WordContribution("film", 7, 11, 0.001),
                     WordContribution("[sic],", 12, 18, -0.02), WordContribution("dull", 19, 23, -0.3)]
    assert coloured_review(text, contributions) == (
        ":green-background[:green[Great]] \u00a0film :red[\\[sic\\]\\,] :red-background[:red[dull]] end\\.")


def test_the_evaluate_box_offers_choices_never_a_server_path(run_dir):
    """A typed path let any browser read files on the server; now the reviews to test on are chosen."""
    app = open_page()
    assert not [box for box in app.text_input if box.label == "Reviews to test on"]
    options = widget(app.selectbox, "Reviews to test on").options
    assert options[0].endswith("(the corpus this model trained on)")
    assert any(option.startswith("imdb —") for option in options) and options[-1].startswith("A file of labelled")
    widget(app.selectbox, "Reviews to test on").set_value("upload")  # a form: sent with its button
    widget(app.button, "Evaluate").click()
    app.run()
    assert not app.exception and "No file was uploaded" in app.error[0].value


def test_an_uploaded_test_file_is_stored_by_content_and_evaluated(run_dir, review_csv):
    from types import SimpleNamespace

    from seqlab.infer.evaluation import evaluate_run
    from seqlab.ui.evaluate_view import _uploaded_corpus

    data = review_csv.read_bytes()
    stored = Path(_uploaded_corpus(SimpleNamespace(name="../../etc/mine.csv", getvalue=lambda: data)))
    assert stored.parent.name == ".uploads" and stored.suffix == ".csv" and "etc" not in stored.name
    assert evaluate_run(run_dir, corpus_name=str(stored), split="all", examples=0)["reviews"] == 60


def test_an_attention_model_shows_where_it_looked_beside_what_changed_its_verdict(tmp_path, monkeypatch):
    """pooling="attention": each word's attention weight beside its leave-one-out effect, and a sentence saying
    that the two are different things."""
    root = tmp_path / "runs"
    root.mkdir()
    corpus = tmp_path / "reviews.csv"
    corpus.write_text("text,label\n" + "".join(f'"a good film {i}",pos\n"a bad film {i}",neg\n' for i in range(20)),
                      encoding="utf-8")
    monkeypatch.setenv("SEQLAB_RUNS", str(root))
    train_tiny(root, "20260101-000000-classify-gru-attention", "classify", corpus,
               **{**TINY, "max_steps": 6, "epochs": 1}, pooling="attention")
    app = open_page()
    text = "a good film, really"
    widget(app.text_area, "Review").input(text)
    widget(app.button, "Score the review").click()
    app.run()
    assert not app.exception and not app.error
    assert any("different things" in c.value and "where the model looked" in c.value for c in app.caption)
    table = app.dataframe[-1].value  # in reading order: the word, its attention (%), its effect
    assert list(table["word"]) == text.split() and list(table.columns) == ["word", "attention",
                                                                           "effect on P(positive)"]
    assert table["attention"].sum() == pytest.approx(100.0, abs=1e-3)
