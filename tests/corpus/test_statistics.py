import math

import numpy as np
import pytest

from seqlab.corpus.registry import Corpus, corpus_from_text
from seqlab.corpus.statistics import check_trainable, corpus_statistics, minimum_generation_characters
from seqlab.errors import SeqlabError


def test_generation_statistics():
    stats = corpus_statistics(corpus_from_text("abca\nab"))
    assert stats["characters"] == 7 and stats["distinct_characters"] == 4 and stats["lines"] == 2
    assert stats["uniform_loss"] == pytest.approx(math.log(4))
    assert 0 < stats["unigram_loss"] < stats["uniform_loss"]


def test_classification_statistics():
    corpus = Corpus("r", "classify", "test", texts=["a b", "c d e", "f"], labels=np.array([1, 0, 1]),
                    test_texts=["g"], test_labels=np.array([0]))
    stats = corpus_statistics(corpus)
    assert stats["documents"] == 4
    assert stats["splits"]["train"]["positive"] == 2 and stats["splits"]["test"]["negative"] == 1
    assert stats["splits"]["train"]["length_words_percentiles"]["50"] == 2


def test_too_short_for_the_sequence_length():
    assert minimum_generation_characters(100) == 1010
    corpus = corpus_from_text("x" * 500)
    with pytest.raises(SeqlabError, match="500 characters, too short for sequence length 100") as caught:
        check_trainable(corpus, "generate", 100)
    assert "sequence length of at most 49" in str(caught.value)
    check_trainable(corpus, "generate", 40)


def test_task_mismatch():
    with pytest.raises(SeqlabError, match="generate corpus, but the run is a classify run"):
        check_trainable(corpus_from_text("x" * 5000), "classify", 10)


def test_a_text_with_more_distinct_characters_than_the_cap_cannot_train_a_generator(monkeypatch):
    """Each distinct character is an output of the model: a million of them would need a 28 GB layer."""
    many = "".join(chr(0x4E00 + i) for i in range(6_000)) * 3  # 6,000 CJK characters, each three times
    corpus = corpus_from_text(many)
    with pytest.raises(SeqlabError, match="has 6,000 distinct characters.*at most 5,000.*SEQLAB_MAX_CHARACTERS"):
        check_trainable(corpus, "generate", 20)
    monkeypatch.setenv("SEQLAB_MAX_CHARACTERS", "8000")
    check_trainable(corpus, "generate", 20)
    monkeypatch.setenv("SEQLAB_MAX_CHARACTERS", "lots")
    with pytest.raises(SeqlabError, match="SEQLAB_MAX_CHARACTERS is 'lots'"):
        check_trainable(corpus, "generate", 20)
