"""Run names and notes: a readable default per workspace, checked edits, older runs named by their id."""

from __future__ import annotations

import pytest

from seqlab.errors import SeqlabError
from seqlab.runs import names


def test_default_names_count_up_per_cell_and_corpus():
    assert names.default_name("lstm", "tiny-shakespeare", []) == "lstm-shakespeare-1"
    assert names.default_name("lstm", "tiny-shakespeare", ["lstm-shakespeare-1", "gru-shakespeare-1"]) == \
        "lstm-shakespeare-2"
    assert names.default_name("simple_rnn", "/runs/_uploads/0123456789abcdef-My_Reviews.csv", []) == \
        "simplernn-my-reviews-1"


def test_a_new_run_gets_a_name_and_edits_are_checked(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    assert names.name_new_run(first, "gru", "imdb", [first, second]) == "gru-imdb-1"
    assert names.name_new_run(second, "gru", "imdb", [first, second]) == "gru-imdb-2"
    names.write_label(first, name="  my first model ", note="clipping off")
    assert names.read_label(first) == {"name": "my first model", "note": "clipping off"}
    for bad in ("", "x" * 41, "bell\x07"):
        with pytest.raises(SeqlabError):
            names.write_label(first, name=bad)
    with pytest.raises(SeqlabError):
        names.write_label(first, note="y" * 501)
    assert names.read_label(first)["name"] == "my first model"  # a refused edit loses nothing


def test_an_older_run_is_named_by_its_id(tmp_path):
    (tmp_path / "20261124-095754-generate-lstm-8bd6").mkdir()
    assert names.run_name(tmp_path / "20261124-095754-generate-lstm-8bd6") == "20261124-095754-generate-lstm-8bd6"
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / names.LABEL).write_text("[1, 2")
    assert names.read_label(tmp_path / "broken") == {"name": "broken", "note": ""}
