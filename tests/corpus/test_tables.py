import numpy as np
import pytest

from seqlab.corpus.tables import parse_labels, read_table
from seqlab.errors import SeqlabError


def table(header, rows, delimiter=","):
    return "\n".join([delimiter.join(header)] + [delimiter.join(row) for row in rows]) + "\n"


@pytest.mark.parametrize("positive,negative", [("1", "0"), ("pos", "neg"), ("Positive", "NEGATIVE"),
                                               ("true", "false"), ("1.0", "0.0")])
def test_label_spellings(positive, negative):
    assert parse_labels([positive, negative, positive], "label").tolist() == [1, 0, 1]


def test_star_ratings_use_the_threshold():
    assert parse_labels(["10", "7", "6", "4", "1"], "stars").tolist() == [1, 1, 1, 0, 0]
    assert parse_labels(["10", "7", "6", "4", "1"], "stars", star_threshold=7).tolist() == [1, 1, 0, 0, 0]


def test_the_automatic_threshold_follows_the_scale():
    assert parse_labels(["5", "4", "3", "1"], "stars").tolist() == [1, 1, 0, 0]  # 1–5 stars: 4 and 5 positive
    assert parse_labels(["5", "4", "3", "1"], "stars", star_threshold=3).tolist() == [1, 1, 1, 0]
    _, _, info = read_table(table(["comment", "stars"], [["great", "9"], ["awful", "2"]]), ",", "t.csv")
    assert info["star_threshold"] == 6.0
    _, _, info = read_table(table(["comment", "label"], [["great", "pos"], ["awful", "neg"]]), ",", "t.csv")
    assert "star_threshold" not in info  # words: no threshold applies


def test_unknown_labels_are_named():
    with pytest.raises(SeqlabError, match="'meh'") as caught:
        parse_labels(["pos", "meh", "neg"], "label")
    assert "pos/neg" in str(caught.value)


def test_columns_detected_by_name_in_any_order():
    text = table(["id", "sentiment", "review"], [["1", "pos", "great"], ["2", "neg", "awful"]])
    texts, labels, info = read_table(text, ",", "t.csv")
    assert texts == ["great", "awful"] and labels.tolist() == [1, 0]
    assert info["text_column"] == "review" and info["label_column"] == "sentiment"


def test_columns_detected_by_content():
    text = table(["words", "y_or_n"], [["a fine film", "1"], ["a dull film", "0"]], "\t")
    texts, labels, info = read_table(text, "\t", "t.tsv")
    assert info == {"text_column": "words", "label_column": "y_or_n", "dropped_empty_rows": 0,
                    "columns": ["words", "y_or_n"]}


def test_quoted_commas_and_newlines():
    text = 'text,label\n"good, really\ngood",pos\n"bad",neg\n'
    texts, labels, _ = read_table(text, ",", "t.csv")
    assert texts[0] == "good, really good" and labels.tolist() == [1, 0]  # one line per review


def test_missing_label_column():
    text = table(["text", "id"], [["fine film", "101"], ["dull film", "2034"]])
    with pytest.raises(SeqlabError, match="no column holds labels"):
        read_table(text, ",", "t.csv")


def test_single_column_has_no_label_column():
    with pytest.raises(SeqlabError, match="single column"):
        read_table("text\nfine\ndull\n", ",", "t.csv")


def test_ambiguous_columns_are_refused():
    text = table(["text", "label", "sentiment"], [["fine", "1", "pos"], ["dull", "0", "neg"]])
    with pytest.raises(SeqlabError, match="several columns .* label column: label, sentiment"):
        read_table(text, ",", "t.csv")
    texts, labels, _ = read_table(text, ",", "t.csv", label_column="sentiment")
    assert labels.tolist() == [1, 0]


def test_explicit_column_must_exist():
    with pytest.raises(SeqlabError, match="no column named 'score'"):
        read_table(table(["text", "label"], [["a", "1"], ["b", "0"]]), ",", "t.csv", label_column="score")


def test_one_class_only():
    with pytest.raises(SeqlabError, match="labelled positive"):
        read_table(table(["text", "label"], [["a", "pos"], ["b", "pos"]]), ",", "t.csv")


def test_empty_texts_are_dropped():
    texts, labels, info = read_table(table(["text", "label"], [["a", "1"], [" ", "0"], ["b", "0"]]), ",", "t.csv")
    assert texts == ["a", "b"] and info["dropped_empty_rows"] == 1
    assert labels.dtype == np.int32


def test_a_table_wider_than_the_cap_is_refused_at_its_header_quickly():
    """37 KB of commas used to cost 150 MB and 20 s: 5,000 columns × 2,000 rows, padded and label-tested."""
    import time

    from seqlab.corpus.tables import MAX_COLUMNS

    wide = ",".join(f"c{i}" for i in range(20_000)) + "\n" + ("," * 19_999 + "\n") * 2_000
    started = time.monotonic()
    with pytest.raises(SeqlabError, match=f"has 20,000 columns in its header.*at most {MAX_COLUMNS} columns"):
        read_table(wide, ",", "wide.csv")
    assert time.monotonic() - started < 2.0
    narrow = "text,label\n" + '"a good film",pos\n"a bad film",neg\n'
    assert read_table(narrow, ",", "narrow.csv")[0] == ["a good film", "a bad film"]


def test_an_oversized_cell_is_a_message_not_a_crash():
    huge = "text,label\n" + '"' + "x" * 1_200_000 + '",pos\n"fine",neg\n'
    with pytest.raises(SeqlabError, match="not a readable table at line .*at most 1,000,000 characters"):
        read_table(huge, ",", "huge.csv")
