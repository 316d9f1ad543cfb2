"""The Data page (AppTest): a table's column picker (the file's columns listed, the detected ones chosen, a star
threshold that changes the labels shown), its choice reaching the Train page's configs, and imdb-full from the
app (download with progress through the shared background job, cache reused, an uploaded archive)."""

from __future__ import annotations

import functools
import time

import pytest
from streamlit.testing.v1 import AppTest

from seqlab.corpus import dataset_download
from tests.conftest import REPO
from tests.corpus.test_dataset_download import ARCHIVE, Handler
from tests.local_server import serving

PAGE = str(REPO / "pages" / "data.py")
STARS_CSV = ("id,comment,stars\n" + "".join(f'{i},"a film I rated {s} out of ten, review {i}",{s}\n'
                                            for i, s in enumerate([9, 2, 7, 5, 10, 1, 6, 4, 8, 3]))).encode()


def labelled(elements, label: str):
    return next(element for element in elements if element.label == label)


def upload_page(data: bytes = STARS_CSV, name: str = "reviews.csv") -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    app.radio[0].set_value("Upload").run()
    app.file_uploader[0].set_value((name, data, "text/csv")).run()
    return app


def read_as(app: AppTest) -> list[str]:
    return list(app.table[0].value["read as"])


def test_the_columns_are_listed_with_the_detected_ones_chosen():
    app = upload_page()
    assert not app.exception and not app.error
    assert not app.text_input  # no free-text column boxes any more
    text, label = labelled(app.selectbox, "Text column"), labelled(app.selectbox, "Label column")
    assert text.options == ["id", "comment (detected)", "stars"]
    assert label.options == ["id", "comment", "stars (detected)"]
    assert (text.value, label.value) == ("comment", "stars")
    assert any("Columns in this file:" in block.value and "comment" in block.value for block in app.markdown)
    assert read_as(app)[:4] == ["positive", "negative", "positive", "negative"]  # 9, 2, 7, 5 with 6 and above
    assert any("5 positive" in block.value and "5 negative" in block.value for block in app.markdown)
    assert app.session_state["seqlab_corpus"]["text_column"] == "comment"


def test_the_star_threshold_changes_the_labels_and_reaches_training():
    app = upload_page()
    labelled(app.selectbox, "Positive from").set_value(5).run()
    assert not app.exception and not app.error
    assert read_as(app)[:4] == ["positive", "negative", "positive", "positive"]  # 5 is positive now
    assert any("6 positive" in block.value for block in app.markdown)
    chosen = app.session_state["seqlab_corpus"]
    assert chosen["star_threshold"] == 5 and chosen["label_column"] == "stars"
    assert app.metric[1].label == "Positive" and app.metric[1].value == "60.0%"  # the statistics read the same


def test_an_undetectable_table_asks_for_a_choice_and_a_bad_choice_is_a_message():
    data = b"words,a,b\nnice film,1,pos\nbad film,0,neg\n"
    app = upload_page(data, "two.csv")
    assert not app.exception
    assert any("could not choose the columns" in block.value for block in app.info)
    assert labelled(app.selectbox, "Label column").value is None
    labelled(app.selectbox, "Label column").set_value("b").run()
    assert not app.exception and not app.error and read_as(app) == ["positive", "negative"]
    labelled(app.selectbox, "Text column").set_value("a").run()
    assert not app.exception and "both 'a'" not in str(app.error) and read_as(app) == ["positive", "negative"]
    labelled(app.selectbox, "Label column").set_value("a").run()
    assert not app.exception and "the text and label columns are both 'a'" in app.error[0].value
    assert labelled(app.selectbox, "Label column").value == "a"  # still there to change back


def test_imdb_full_downloads_in_the_background_and_is_then_reused(monkeypatch):
    with serving(Handler) as server:
        monkeypatch.setattr(dataset_download, "start_download", functools.partial(
            dataset_download.start_download, server.url + "/slow", allow_private_addresses=True))
        app = AppTest.from_file(PAGE, default_timeout=60).run()
        app.selectbox[0].set_value("imdb-full").run()
        assert not app.exception and not app.metric
        labelled(app.button, "Download imdb-full (84 MB)").click().run()
        assert not app.exception
        assert dataset_download.download_state().running or dataset_download.is_available()
        if dataset_download.download_state().running:  # the progress bar and its cancel button are drawn
            assert any(button.label == "Cancel download" for button in app.button)
        deadline = time.monotonic() + 20
        while dataset_download.download_state().running and time.monotonic() < deadline:
            time.sleep(0.05)
        app.run()
        assert not app.exception and not app.error
        assert any("training and 4 test reviews" in block.value for block in app.success)
        assert app.metric[0].label == "Train reviews" and app.metric[0].value == "4"
        assert server.hits == {"/slow": 1}
        fresh = AppTest.from_file(PAGE, default_timeout=60).run()  # another visitor: the cache, no download
        fresh.selectbox[0].set_value("imdb-full").run()
        assert not any(button.label.startswith("Download imdb-full") for button in fresh.button)
        assert server.hits == {"/slow": 1}


@pytest.mark.parametrize("name,data,outcome", [
    ("aclImdb_v1.tar.gz", ARCHIVE, "success"),
    ("aclImdb_v1.tar.gz", b"\x1f\x8b not really an archive", "error"),
])
def test_an_uploaded_archive_is_used_or_refused(name, data, outcome):
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    app.selectbox[0].set_value("imdb-full").run()
    app.file_uploader[0].set_value((name, data, "application/gzip"))
    labelled(app.button, "Use this archive").click().run()
    assert not app.exception
    if outcome == "success":
        assert "4 training and 4 test reviews" in app.success[0].value and dataset_download.is_available()
    else:
        assert "not a readable .tar.gz" in app.error[0].value and not dataset_download.is_available()


def test_the_train_page_lists_imdb_full_once_it_is_in_the_cache():
    from seqlab.ui.train_view import corpus_choices

    assert "imdb-full" not in corpus_choices("classify")
    dataset_download.store_archive(ARCHIVE, "aclImdb_v1.tar.gz")
    assert "imdb-full" in corpus_choices("classify") and "imdb-full" not in corpus_choices("generate")


def test_the_losses_to_beat_are_shown_as_choices_not_nats():
    """Tiny Shakespeare has 65 distinct characters: random guessing is as unsure as choosing among 65."""
    app = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not app.exception
    line = next(markdown.value for markdown in app.markdown if "What a model must beat" in markdown.value)
    assert "choosing between 65.0 characters" in line and "nats" not in line
