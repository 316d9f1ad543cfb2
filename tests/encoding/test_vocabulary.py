import numpy as np
import pytest

from seqlab.encoding.vocabulary import CharVocabulary, make_review_vectorizer
from seqlab.errors import SeqlabError


def test_vocabulary_round_trip(tmp_path):
    vocabulary = CharVocabulary.from_text("hello, world\n")
    assert vocabulary.characters == tuple(sorted(set("hello, world\n")))
    ids = vocabulary.encode("world")
    assert ids.dtype == np.int32 and vocabulary.decode(ids) == "world"
    vocabulary.save(tmp_path / "vocabulary.json")
    assert CharVocabulary.load(tmp_path / "vocabulary.json") == vocabulary
    assert CharVocabulary.from_json(vocabulary.to_json()) == vocabulary


def test_unknown_characters_error_or_skip():
    vocabulary = CharVocabulary.from_text("abc")
    with pytest.raises(SeqlabError, match="2 character.*'x' 'z'"):
        vocabulary.encode("axbz")
    assert vocabulary.decode(vocabulary.encode("axbz", unknown="skip")) == "ab"


def test_damaged_vocabulary_file():
    with pytest.raises(SeqlabError, match="damaged"):
        CharVocabulary.from_json('{"characters": ["ab", 3]}')


def test_review_vectorizer_pads_truncates_and_lowercases():
    vectorizer = make_review_vectorizer(["Great film!", "great acting", "awful film"], vocabulary_size=50,
                                        max_length=4)
    ids = vectorizer(["GREAT, film", "great great great great great awful"]).numpy()
    assert ids.shape == (2, 4)
    assert ids[0, 0] == ids[1, 0] != 0  # lower-cased and punctuation stripped: same id for "great"
    assert ids[0, 2:].tolist() == [0, 0]  # padded with 0 at the end
    assert 0 not in ids[1].tolist()  # truncated to 4
    assert vectorizer(["zebra"]).numpy()[0, 0] == 1  # out of vocabulary


def test_review_vectorizer_rejects_unknown_mode():
    with pytest.raises(SeqlabError, match="standardize"):
        make_review_vectorizer(["a"], standardize="stem")
