"""The memory-probe corpora: the answer really is the key from N steps back, the text is the same every time,
and the names work wherever a built-in corpus name does."""

from __future__ import annotations

import pytest

from seqlab.corpus import synthetic
from seqlab.corpus.registry import BUILTIN_CORPORA, is_builtin, list_corpora, load_corpus
from seqlab.errors import SeqlabError


@pytest.mark.parametrize("kind", ["copy", "brackets"])
def test_every_training_line_answers_its_key_from_at_most_n_back(kind):
    lines = synthetic.corpus_text(kind, 7).splitlines()
    assert len(lines) > 10_000
    for line in lines:
        key, distractors, signpost, answer = line[0], line[1:-2], line[-2], line[-1]
        assert key in synthetic.KEYS[kind] and answer == synthetic.ANSWERS[kind][key] and signpost == "="
        assert 1 <= len(distractors) <= 7 and set(distractors) <= set(synthetic.DISTRACTORS)
    assert {len(line) - 3 for line in lines} == set(range(1, 8))  # every distance up to N is there


def test_evaluation_lines_are_fresh_and_exactly_n_long():
    lines, answer_at = synthetic.evaluation_lines("brackets", 20, 50)
    assert answer_at == 22 and len(lines) == 50
    for line in lines:
        assert len(line) == 23 and line[answer_at - 1] == "=" and line[answer_at] == {"(": ")", "[": "]", "{": "}",
                                                                                       "<": ">"}[line[0]]
    assert not set(lines) & set(synthetic.corpus_text("brackets", 20).splitlines())
    assert synthetic.chance("brackets") == 0.25 and synthetic.chance("copy") == 0.125


def test_the_text_is_made_from_a_seed():
    first = synthetic.corpus_text("copy", 5)
    synthetic.corpus_text.cache_clear()
    assert synthetic.corpus_text("copy", 5) == first
    assert synthetic.evaluation_lines("copy", 5, 30) == synthetic.evaluation_lines("copy", 5, 30)
    assert 100_000 < len(first) < 300_000


def test_names_are_built_in_corpora():
    corpus = load_corpus("memory-copy-20")
    assert corpus.task == "generate" and corpus.text == synthetic.corpus_text("copy", 20)
    assert is_builtin("memory-brackets-200") and "memory-copy-1" in BUILTIN_CORPORA
    assert BUILTIN_CORPORA["memory-copy-20"].task == BUILTIN_CORPORA.get("memory-copy-20").task == "generate"
    for name in ("memory-copy-0", "memory-copy-201", "memory-copy-05", "memory-spaces-5", "memory-copy-N"):
        assert not is_builtin(name) and BUILTIN_CORPORA.get(name) is None
    assert "memory-copy-20" not in [info.name for info in list_corpora()]  # pickers list the fixed ones
    assert {"memory-copy-N", "memory-brackets-N"} <= {info.name for info in list_corpora(families=True)}
    with pytest.raises(SeqlabError):
        synthetic.corpus_name("copy", 0)
