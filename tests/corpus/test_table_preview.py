"""The Data page's column picker and label preview, from seqlab.corpus.table_preview: the file's columns listed,
the detected ones named, a chosen star threshold changing the labels, undetectable tables still listed."""

from __future__ import annotations

import pytest

from seqlab.corpus.registry import load_corpus
from seqlab.corpus.table_preview import describe_stars, preview_labels, read_table_file, table_from_text
from seqlab.errors import SeqlabError

STARS = "id,comment,stars,country\n" + "".join(
    f'{i},"a film I rated {stars} stars, review {i}",{stars},FR\n' for i, stars in enumerate([9, 2, 7, 5, 10, 1, 6, 4]))


def test_columns_are_listed_and_the_detected_ones_named():
    table = table_from_text(STARS, ",", "reviews.csv")
    assert table.header == ["id", "comment", "stars", "country"]
    assert (table.detected_text, table.detected_label, table.problem) == ("comment", "stars", "")


def test_the_preview_shows_raw_labels_and_how_they_were_read():
    preview = preview_labels(table_from_text(STARS, ",", "reviews.csv"), rows=3)
    assert preview["rows"] == [
        {"text": "a film I rated 9 stars, review 0", "label as written": "9", "read as": "positive"},
        {"text": "a film I rated 2 stars, review 1", "label as written": "2", "read as": "negative"},
        {"text": "a film I rated 7 stars, review 2", "label as written": "7", "read as": "positive"}]
    assert (preview["positive"], preview["negative"]) == (4, 4)
    assert preview["stars"] == {"lowest": 1.0, "highest": 10.0, "threshold": 6.0, "automatic": True}
    assert "6 and above is read as positive" in describe_stars(preview["stars"])


def test_a_star_threshold_changes_the_labels_as_the_loader_reads_them(tmp_path):
    table = table_from_text(STARS, ",", "reviews.csv")
    strict = preview_labels(table, star_threshold=9)
    assert (strict["positive"], strict["negative"]) == (2, 6) and not strict["stars"]["automatic"]
    assert [row["read as"] for row in strict["rows"][:3]] == ["positive", "negative", "negative"]
    path = tmp_path / "reviews.csv"
    path.write_text(STARS, encoding="utf-8")
    assert int(load_corpus(str(path), star_threshold=9).labels.sum()) == 2  # training reads the same
    assert int(load_corpus(str(path)).labels.sum()) == 4


def test_an_undetectable_table_is_still_listed_and_a_choice_resolves_it(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text("words,a,b\nnice film,1,pos\nbad film,0,neg\n", encoding="utf-8")
    table = read_table_file(path)
    assert table.header == ["words", "a", "b"] and table.detected_label is None
    assert "several columns could hold the labels: a, b" in table.problem
    preview = preview_labels(table, label_column="b")
    assert preview["text_column"] == "words" and preview["stars"] is None


def test_choices_the_loader_would_refuse_are_refused_here_too():
    table = table_from_text(STARS, ",", "reviews.csv")
    with pytest.raises(SeqlabError, match="label values seqlab does not understand"):
        preview_labels(table, label_column="country")
    with pytest.raises(SeqlabError, match="both 'comment'"):
        preview_labels(table, text_column="comment", label_column="comment")


def test_cli_inspect_lists_the_columns_and_says_which_were_detected(tmp_path, capsys):
    from seqlab.cli.main import main

    path = tmp_path / "reviews.csv"
    path.write_text(STARS, encoding="utf-8")
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "columns in the file: id, comment, stars, country" in out
    assert "columns used: text='comment' (detected), label='stars' (detected)" in out
    assert "star ratings: 6 and above read as positive" in out and "4 positive / 4 negative" in out
    assert main(["inspect", str(path), "--label-column", "stars", "--star-threshold", "9"]) == 0
    out = capsys.readouterr().out
    assert "label='stars' (chosen)" in out and "9 and above" in out and "2 positive / 6 negative" in out


def test_the_worker_trains_with_the_chosen_threshold(tmp_path):
    """Ratings 6–10 are all positive by the automatic rule (nothing to tell apart); with 9 they split, and a run
    trains: the threshold travels in config.json to the worker's corpus read."""
    from seqlab.config import configs_from_json
    from seqlab.runs import run_folder
    from tests.tiny_runs import CLASSIFY_TINY, train_tiny

    path = tmp_path / "happy.csv"
    path.write_text("comment,stars\n" + "".join(f'"a film I rated {6 + i % 5}, number {i}",{6 + i % 5}\n'
                                                for i in range(60)), encoding="utf-8")
    with pytest.raises(SeqlabError, match="labelled positive"):
        load_corpus(str(path))
    run_dir = train_tiny(tmp_path / "runs", "stars-9", "classify", path, star_threshold=9,
                         **{**CLASSIFY_TINY, "max_steps": 4})
    _, train = configs_from_json((run_dir / run_folder.CONFIG).read_text(encoding="utf-8"))
    assert train.star_threshold == 9
