"""Review scoring on a tiny trained classifier: probabilities, leave-one-out contributions, CSV scoring."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from seqlab.corpus.imdb import clean_review
from seqlab.errors import SeqlabError
from tests.tiny_runs import CLASSIFY_TINY, train_tiny, write_review_table

TEXTS = [
    "a good film, really good",
    "awful.<br /><br />A bad film number 3, awful",
    "good",
    "a bad film number 7 awful awful and then a good film with good acting but an awful ending overall",
    "!!!",
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scoring")
    root = folder / "runs"
    root.mkdir()
    return train_tiny(root, "tiny-classify", "classify", write_review_table(folder), **CLASSIFY_TINY)


@pytest.fixture
def scorer(run, monkeypatch):
    from seqlab.infer.scoring import ReviewScorer

    monkeypatch.setenv("SEQLAB_RUNS", str(run.parent))
    return ReviewScorer.from_run(run)


def model_probabilities(run, texts):
    """The saved Keras model on whole strings: the reference the fast path must match."""
    import tensorflow as tf

    from seqlab.infer.loading import load_run

    model = load_run(run).model
    return np.asarray(model(tf.constant([clean_review(text) for text in texts]), training=False))[:, 0]


def test_probabilities_match_the_model(run, scorer):
    probabilities = scorer.probabilities(TEXTS, batch_size=2)  # several length-sorted, trimmed batches
    assert probabilities.shape == (len(TEXTS),) and probabilities.dtype == np.float32
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    np.testing.assert_allclose(probabilities, model_probabilities(run, TEXTS), atol=1e-5)
    assert np.ptp(probabilities) > 0  # the texts are not all scored alike
    np.testing.assert_allclose(scorer.probabilities(TEXTS[:1]), probabilities[:1], atol=1e-6)


@pytest.mark.parametrize("texts,fragment", [
    (["fine", "   \n "], "Text 2 of 2 is empty"),
    ([""], "Text 1 of 1 is empty"),
    (["fine", 3], "Text 2 of 2 is a int"),
    ("one string", "a list of review strings"),
])
def test_bad_texts_are_refused(scorer, texts, fragment):
    with pytest.raises(SeqlabError, match=re.escape(fragment)):
        scorer.probabilities(texts)


def test_word_contributions_cover_every_word(scorer):
    text = "A good film!<br />Really  good -- but awful\tending ... good"
    probability, words = scorer.word_contributions(text)
    assert [word.word for word in words] == ["A", "good", "film!", "Really", "good", "but", "awful", "ending",
                                             "good"]
    for word in words:
        assert text[word.start:word.end] == word.word
    assert probability == pytest.approx(float(scorer.probabilities([text])[0]), abs=1e-6)
    for word in words:  # leave-one-out, checked one variant at a time
        without = text[:word.start] + " " + text[word.end:]
        expected = probability - float(scorer.probabilities([without])[0])
        assert word.contribution == pytest.approx(expected, abs=1e-5)
    assert any(abs(word.contribution) > 1e-4 for word in words)


def test_word_contributions_limits(scorer):
    words_in_text = 30  # the tiny model reads 12 words (its sequence length)
    text = " ".join(["good", "awful", "film"] * (words_in_text // 3))
    _, words = scorer.word_contributions(text)
    assert len(words) == words_in_text
    assert all(word.contribution == 0.0 for word in words[12:])  # never read by the model
    assert any(word.contribution != 0.0 for word in words[:12])
    _, first = scorer.word_contributions(text, max_words=5)
    assert [(w.start, w.end) for w in first] == [(w.start, w.end) for w in words[:5]]
    _, single = scorer.word_contributions("good")
    assert len(single) == 1  # removing the only word leaves an empty review, which the model still scores
    for bad, fragment in ((("   ",), "The text is empty"), (("good", 0), "max_words is 0")):
        with pytest.raises(SeqlabError, match=fragment):
            scorer.word_contributions(*bad)


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_csv_round_trip(scorer, tmp_path):
    from seqlab.infer.score_file import score_csv

    rows = [["7", "a good film, really good", "pos"], ["8", "", "neg"], ["9", "awful.<br />a bad film", "neg"]]
    rows += [[str(10 + i), f"film {i} was good and awful", "pos"] for i in range(7)]
    source = tmp_path / "in.csv"
    with open(source, "w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([["id", "review", "label"], *rows])
    seen = []
    count = score_csv(scorer, source, tmp_path / "out" / "scored.csv", progress=seen.append, chunk_size=4)
    assert count == len(rows) and seen == [4, 8, 10]
    with open(tmp_path / "out" / "scored.csv", encoding="utf-8", newline="") as file:
        table = list(csv.reader(file))
    assert table[0] == ["id", "review", "label", "probability_positive", "predicted_label"]
    assert [row[:3] for row in table[1:]] == rows
    assert table[2][3:] == ["", ""]  # the empty review
    scored = [row for row in table[1:] if row[1]]
    expected = scorer.probabilities([row[1] for row in scored])
    np.testing.assert_allclose([float(row[3]) for row in scored], expected, atol=1e-6)
    assert [row[4] for row in scored] == ["positive" if p > 0.5 else "negative" for p in expected]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["scored.csv"]  # no temporary file left


def test_tsv_text_column_found_by_content(scorer, tmp_path):
    from seqlab.infer.score_file import score_csv

    source = write(tmp_path / "in.tsv", "\ufeffnumber\twords\tstars\n1\ta good film\t9\n2\tawful, bad\t2\n")
    assert score_csv(scorer, source, tmp_path / "scored.tsv") == 2
    lines = (tmp_path / "scored.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "number\twords\tstars\tprobability_positive\tpredicted_label"
    values = [float(line.split("\t")[3]) for line in lines[1:]]
    np.testing.assert_allclose(values, scorer.probabilities(["a good film", "awful, bad"]), atol=1e-6)
    assert score_csv(scorer, source, tmp_path / "chosen.csv", text_column="number") == 2  # an explicit choice wins


def test_a_table_saved_by_excel_on_windows_scores_as_its_utf8_twin(scorer, tmp_path):
    from seqlab.infer.score_file import score_csv

    reviews = ["Un film très réussi, l'acteur principal est génial – à voir absolument.",
               "Déçu: l'histoire est lente et les dialogues sont plats, dommage.",
               "The café scene is naïve but charming; the score costs 5€ on iTunes."]
    text = "review,label\n" + "".join(f"\"{review} ({i})\",pos\n" for i in range(4) for review in reviews)
    score_csv(scorer, write(tmp_path / "excel.csv", text, "cp1252"), tmp_path / "excel-scored.csv")
    score_csv(scorer, write(tmp_path / "utf8.csv", text), tmp_path / "utf8-scored.csv")
    scored = (tmp_path / "excel-scored.csv").read_text(encoding="utf-8")
    assert "génial – à voir absolument. (3)" in scored and "5€" in scored  # read as cp1252, written as UTF-8
    assert scored == (tmp_path / "utf8-scored.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize("name,content,fragment", [
    ("numbers.csv", "id,label\n1,pos\n2,neg\n", "no column with review text"),
    ("empty.csv", b"", "is empty"),
    ("header.csv", "text,label\n", "no data rows"),
    ("photo.csv", bytes(range(256)) * 20, "binary"),
    ("russian.csv", ("text\n" + "Привет мир, это тест текста на русском языке.\n" * 30).encode("cp1251"),
     "not valid UTF-8"),
    ("blank.csv", "text,label\n  ,pos\n,neg\n", "holds no text in any row"),
    ("ragged.csv", "text,label\ngood film,pos,extra\n", "has 3 fields but the header has 2"),
    ("notes.txt", "a good film", "not a .csv or .tsv file"),
])
def test_bad_tables_are_refused(scorer, tmp_path, name, content, fragment):
    from seqlab.infer.score_file import score_csv

    source = write(tmp_path / name, content)
    out = tmp_path / "out" / "scored.csv"
    with pytest.raises(SeqlabError, match=fragment):
        score_csv(scorer, source, out)
    assert not out.parent.exists() or not any(out.parent.iterdir())  # no output, no temporary file left


def test_missing_column_and_file(scorer, tmp_path):
    from seqlab.infer.score_file import score_csv

    source = write(tmp_path / "in.csv", "text,label\ngood,pos\n")
    with pytest.raises(SeqlabError, match="has no column named 'review'"):
        score_csv(scorer, source, tmp_path / "out.csv", text_column="review")
    with pytest.raises(SeqlabError, match="No file at"):
        score_csv(scorer, tmp_path / "missing.csv", tmp_path / "out.csv")


@pytest.mark.parametrize("word_pairs", [0, 1000])
def test_scorer_reads_a_max_mean_pooling_classifier(tmp_path, word_pairs):
    """The scorer rebuilds the layers after the vectorizer; the pooling and word-pair branches must survive that."""
    from seqlab.config import ModelConfig
    from seqlab.encoding.vocabulary import make_review_vectorizer
    from seqlab.infer.scoring import ReviewScorer
    from seqlab.model.builder import build_model

    texts = ["good film", "a bad and very long film indeed", "great"]
    vectorizer = make_review_vectorizer(texts, vocabulary_size=100, max_length=10)
    model = build_model(ModelConfig(task="classify", cell="gru", units=6, embedding_dim=4, bidirectional=True,
                                    vocabulary_size=100, pooling="max_mean", dropout=0.2, word_pairs=word_pairs),
                        vectorizer=vectorizer)
    import tensorflow as tf

    expected = model(tf.constant(texts)).numpy()[:, 0]
    np.testing.assert_allclose(ReviewScorer(model).probabilities(texts), expected, atol=1e-6)


def test_scored_files_cannot_carry_formulas_into_a_spreadsheet(scorer, tmp_path):
    """CSV injection: a cell a teacher's spreadsheet would evaluate (=, +, -, @, tab, CR) is written as text."""
    from seqlab.infer.score_file import score_csv

    rows = [["=HYPERLINK(\"http://evil.example\",\"x\")", "a good film", "+1"],
            ["@SUM(A1)", "-2 stars, awful", "\tpos"], ["plain", "fine film", "neg"]]
    source = tmp_path / "in.csv"
    with open(source, "w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([["=cmd|' /C calc'!A0", "review", "label"], *rows])
    score_csv(scorer, source, tmp_path / "scored.csv")
    with open(tmp_path / "scored.csv", encoding="utf-8", newline="") as file:
        table = list(csv.reader(file))
    assert table[0][0] == "'=cmd|' /C calc'!A0"
    assert [row[:3] for row in table[1:]] == [["'=HYPERLINK(\"http://evil.example\",\"x\")", "a good film", "'+1"],
                                             ["'@SUM(A1)", "'-2 stars, awful", "'\tpos"], ["plain", "fine film", "neg"]]
    assert all(row[3] for row in table[1:])  # each still scored, from the text as written


def test_a_review_too_long_to_explain_word_by_word_is_refused_before_copying_it(scorer):
    from seqlab.infer.scoring import MAX_EXPLAINED_CHARACTERS

    long_review = "a good film " * (MAX_EXPLAINED_CHARACTERS // 10)
    with pytest.raises(SeqlabError, match=f"at most {MAX_EXPLAINED_CHARACTERS:,} characters to explain"):
        scorer.word_contributions(long_review)
    assert scorer.probabilities([long_review]).shape == (1,)  # scoring it whole still works


def test_many_texts_are_scored_in_bounded_chunks_with_the_same_result(scorer, monkeypatch):
    from seqlab.infer import scoring

    texts = [f"a good film number {i}" if i % 3 else f"an awful, boring film {i}" for i in range(23)]
    whole = scorer.probabilities(texts)
    seen = []
    original = scorer._ids
    monkeypatch.setattr(scoring, "SCORE_ROWS", 5)
    monkeypatch.setattr(scorer, "_ids", lambda cleaned: seen.append(len(cleaned)) or original(cleaned))
    np.testing.assert_allclose(scorer.probabilities(texts), whole, atol=1e-6)
    assert seen == [5, 5, 5, 5, 3]  # never more than SCORE_ROWS texts' ids at once


def attention_scorer(standardize: str = "lower_and_strip_punctuation", max_length: int = 10):
    """A scorer on an untrained bidirectional LSTM with attention pooling (alignment needs no training)."""
    from seqlab.config import ModelConfig
    from seqlab.encoding.vocabulary import make_review_vectorizer
    from seqlab.infer.scoring import ReviewScorer
    from seqlab.model.builder import build_model

    texts = ["good film", "a bad -- and very long film indeed", "great", "awful"]
    vectorizer = make_review_vectorizer(texts, vocabulary_size=100, max_length=max_length, standardize=standardize)
    model = build_model(ModelConfig(task="classify", cell="lstm", units=6, embedding_dim=4, bidirectional=True,
                                    vocabulary_size=100, pooling="attention"), vectorizer=vectorizer)
    return ReviewScorer(model)


def test_each_word_gets_its_attention_weight(scorer):
    """Attention weights line up with the words word_contributions lists: they sum to 1 over the words the model
    read, punctuation and line breaks between them are no words, and a word past the sequence length gets 0."""
    attentive = attention_scorer()
    assert attentive.has_attention and not scorer.has_attention
    assert all(word.attention is None for word in scorer.word_contributions("a good film")[1])
    text = "Good -- film!<br />really\u2028good ... awful zzqx"
    probability, words = attentive.word_contributions(text)
    assert [word.word for word in words] == ["Good", "film!", "really", "good", "awful", "zzqx"]
    assert sum(word.attention for word in words) == pytest.approx(1.0, abs=1e-6)
    assert all(word.attention > 0 for word in words)
    _, plain = attentive.word_contributions("good film really good awful zzqx")  # the same word ids
    np.testing.assert_allclose([w.attention for w in words], [w.attention for w in plain], atol=1e-6)
    _, long = attentive.word_contributions(" ".join(["good", "awful", "film"] * 5))  # 15 words, 10 read
    assert sum(w.attention for w in long[:10]) == pytest.approx(1.0, abs=1e-6)
    assert all(w.attention == 0.0 for w in long[10:])


def test_attention_lines_up_where_punctuation_is_a_token():
    """A vectorizer that keeps punctuation reads "--" as a word: it takes its share, which no listed word gets."""
    import tensorflow as tf

    attentive = attention_scorer(standardize="none")
    _, words = attentive.word_contributions("good -- film")
    ids = attentive._ids(["good -- film"])[:, :3]
    assert np.all(ids > 0)  # three tokens
    weights = np.asarray(attentive._attention(tf.constant(ids)))[0]
    np.testing.assert_allclose([w.attention for w in words], weights[[0, 2]], atol=1e-7)
