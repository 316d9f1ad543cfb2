"""The Data page in a real browser (issue 25 item 6): upload a table with non-standard column names ("comment",
"stars" 1–10), see the file's columns listed with the detected ones chosen, change the star threshold and see the
label preview change; download imdb-full from a loopback mirror with a progress bar. Screenshots: artifacts/e2e/."""

from __future__ import annotations

import re

import pytest

from tests.corpus.test_dataset_download import Handler
from tests.e2e.conftest import wait_until
from tests.local_server import serving

RATINGS = [9, 2, 7, 5, 10, 1, 6, 4, 8, 3, 5, 6]


def test_upload_a_table_pick_its_columns_and_threshold(app_server, browser_page, artifacts, tmp_path):
    url, _ = app_server
    table = tmp_path / "my_reviews.csv"
    table.write_text("id,comment,stars\n" + "".join(f'{i},"I gave this film {stars} out of ten, review {i}",{stars}\n'
                                                    for i, stars in enumerate(RATINGS)), encoding="utf-8")
    page = browser_page
    page.goto(f"{url}/data")
    page.get_by_role("heading", name="Data").first.wait_for(timeout=60_000)
    main = page.get_by_test_id("stMain")
    main.get_by_test_id("stRadio").get_by_text("Upload", exact=True).click()
    page.locator("input[type=file]").first.set_input_files(str(table))

    columns = main.get_by_test_id("stMarkdown").filter(has_text="Columns in this file:")
    columns.wait_for(timeout=60_000)
    assert all(name in columns.inner_text() for name in ("id", "comment", "stars"))
    def chosen(label: str) -> str:
        return main.get_by_role("combobox", name=label).input_value()

    assert (chosen("Text column"), chosen("Label column")) == ("comment (detected)", "stars (detected)")
    assert chosen("Positive from") == "Automatic: 6 stars and above"
    counts = main.get_by_test_id("stMarkdown").filter(has_text=re.compile(r"^Read as \d"))
    preview = main.get_by_test_id("stTable")
    main.get_by_role("button", name="Train on this corpus").wait_for()  # the page has finished its run
    assert "I gave this film 9 out of ten, review 0" in preview.inner_text()
    assert "my_reviews.csv · review sentiment" in main.inner_text()  # the file's own name, not its stored hash
    assert "6 positive" in counts.inner_text() and "6 negative" in counts.inner_text()  # 6–10 of the 12 ratings
    page.screenshot(path=str(artifacts / "data-columns-detected.png"), full_page=True)

    main.get_by_role("combobox", name="Positive from").click()
    page.get_by_role("option", name="8 stars and above").click()
    wait_until(lambda: "3 positive" in counts.inner_text(), 30, "the preview to read 8, 9 and 10 as positive")
    rows = [[cell.inner_text().strip() for cell in row.locator("td, th").all()]  # review, label as written, read as
            for row in preview.locator("tbody tr").all()]
    assert [tuple(row[-2:]) for row in rows[:3]] == [("9", "positive"), ("2", "negative"), ("7", "negative")]
    assert "9 negative" in counts.inner_text()
    assert "8 and above is read as positive" in main.get_by_test_id("stCaptionContainer").filter(
        has_text="Ratings run from").inner_text()
    page.screenshot(path=str(artifacts / "data-threshold-8.png"), full_page=True)

    page.get_by_role("button", name="Train on this corpus").click()  # the choice travels to the Train page
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=60_000)
    corpus = page.get_by_test_id("stMain").get_by_role("combobox", name="Corpus").input_value()
    assert corpus == "my_reviews.csv (chosen on the Data page)" and "star_threshold=8" in page.url


@pytest.fixture
def imdb_mirror(monkeypatch):
    """A loopback 'Stanford' serving a small archive slowly; the app server (started after this fixture) gets it
    as the operator's $SEQLAB_IMDB_URL."""
    with serving(Handler) as server:
        monkeypatch.setenv("SEQLAB_IMDB_URL", server.url + "/slow")
        yield server


def test_imdb_full_downloads_from_the_page_with_a_progress_bar(imdb_mirror, app_server, browser_page, artifacts):
    url, _ = app_server
    page = browser_page
    page.goto(f"{url}/data")
    main = page.get_by_test_id("stMain")
    main.get_by_role("combobox", name="Corpus").click()
    page.get_by_role("option", name=re.compile("^imdb-full")).click()
    main.get_by_role("button", name="Download imdb-full (84 MB)").click()
    main.get_by_test_id("stProgress").wait_for(timeout=30_000)  # redrawn by the fragment while the thread works
    assert main.get_by_role("button", name="Cancel download").is_visible()
    page.screenshot(path=str(artifacts / "data-imdb-full-downloading.png"), full_page=True)
    main.get_by_text(re.compile("Downloaded and checked: 4 training and 4 test reviews")).wait_for(timeout=60_000)
    main.get_by_test_id("stMetric").first.wait_for()
    assert "Train reviews" in main.inner_text() and imdb_mirror.hits == {"/slow": 1}
    page.screenshot(path=str(artifacts / "data-imdb-full-done.png"), full_page=True)
