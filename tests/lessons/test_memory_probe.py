"""The memory probe: distances as people type them, plans whose windows hold the dependency, scoring at the answer
positions only, and the table and sentence from scored runs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seqlab.corpus import synthetic
from seqlab.encoding.vocabulary import CharVocabulary
from seqlab.errors import SeqlabError
from seqlab.lessons import memory_probe, probe_eval
from tests.lessons.fake_runs import fake_run
from tests.tiny_runs import train_tiny


def test_distances_as_typed():
    assert memory_probe.parse_distances(" 40, 5,10 ,20") == [5, 10, 20, 40]
    for text, words in (("5,x", "'x' is not a whole number"), ("0,5", "'0' is not a usable distance"),
                        ("5,5", "twice"), (",".join(map(str, range(1, 10))), "9 distances"), ("", "0 distances"),
                        ("-3", "'-3' is not a whole number"), ("201", "'201'")):
        with pytest.raises(SeqlabError, match=words):
            memory_probe.parse_distances(text)


def test_plans_fit_the_dependency_in_one_window():
    plans = memory_probe.plan_probe([5, 40], "brackets", budget_seconds=20)
    assert [(plan["distance"], plan["cell"]) for plan in plans] == [
        (5, "simple_rnn"), (5, "lstm"), (5, "gru"), (40, "simple_rnn"), (40, "lstm"), (40, "gru")]
    for plan in plans:
        assert plan["train"].corpus == f"memory-brackets-{plan['distance']}"
        assert plan["train"].sequence_length >= 2 * (plan["distance"] + 4) and plan["model"].units == 64
        assert plan["train"].time_budget_seconds == 20
    with pytest.raises(SeqlabError):
        memory_probe.plan_probe([5], budget_seconds=0)


class KeyRecaller:
    """A stand-in for NumpyCharModel that answers with the key it was fed (position 1, after the newline)."""

    def __init__(self, vocabulary: CharVocabulary, kind: str, forget: bool = False):
        self.vocabulary, self.kind, self.forget = vocabulary, kind, forget

    def initial_state(self, batch: int) -> list:
        return [np.zeros((batch, 1), np.float32)]

    def warm(self, ids, state):
        assert ids.shape[1] == 1 + synthetic.answer_index(9) and set(ids[:, 0]) == {self.vocabulary.encode("\n")[0]}
        keys = "a" * len(ids) if self.forget else self.vocabulary.decode(ids[:, 1])
        answers = self.vocabulary.encode("".join(synthetic.ANSWERS[self.kind][key] for key in keys))
        return np.eye(self.vocabulary.size, dtype=np.float32)[answers], state


@pytest.mark.parametrize("kind", ["copy", "brackets"])
def test_scoring_looks_at_the_answer_only(kind):
    vocabulary = CharVocabulary.from_text(synthetic.corpus_text(kind, 9))
    assert probe_eval.answer_accuracy(KeyRecaller(vocabulary, kind), vocabulary, kind, 9, 200) == 1.0
    if kind == "copy":  # always 'a': right for the lines whose key is 'a', about 1 in 8
        guess = probe_eval.answer_accuracy(KeyRecaller(vocabulary, kind, forget=True), vocabulary, kind, 9, 400)
        assert abs(guess - synthetic.chance(kind)) < 0.05


def test_a_real_tiny_run_is_scored_into_its_folder(tmp_path):
    root = tmp_path / "runs"
    run_dir = train_tiny(root, "tiny-probe", "generate", "memory-copy-2", cell="gru", units=16, embedding_dim=8,
                         sequence_length=24, batch_size=16, max_steps=30, learning_rate=1e-2)
    assert probe_eval.evaluate_finished([run_dir], root) and probe_eval.evaluate_finished([run_dir], root) == []
    record = json.loads((run_dir / "probe.json").read_text())
    assert record["corpus"] == "memory-copy-2" and record["cell"] == "gru" and record["distance"] == 2
    assert 0 <= record["accuracy"] <= 1 and record["chance"] == 0.125 and record["lines"] == 500
    with pytest.raises(SeqlabError, match="not a memory-probe corpus"):
        probe_eval.probe_corpus(fake_run(tmp_path, "plain", "lstm"))


def test_table_and_sentence_from_scored_runs(tmp_path):
    scores = {5: {"simple_rnn": 0.98, "lstm": 1.0, "gru": 1.0}, 20: {"simple_rnn": 0.14, "lstm": 0.99, "gru": 0.97},
              40: {"simple_rnn": 0.12, "lstm": 0.97, "gru": None}}
    runs = [fake_run(tmp_path, f"{cell}-{distance}", cell, corpus=f"memory-copy-{distance}",
                     record={"kind": "probe", "id": "probe-1", "distance": distance},
                     probe=None if accuracy is None else {"cell": cell, "accuracy": accuracy})
            for distance, cells in scores.items() for cell, accuracy in cells.items()]
    rows = memory_probe.probe_table(runs)
    assert rows == [{"distance": distance, "chance": 0.125, **cells} for distance, cells in scores.items()]
    assert memory_probe.probe_sentence(rows) == (
        "SimpleRNN is down to guessing from 20 steps back; LSTM still gets 97% right at 40 steps back; GRU still "
        "gets 97% right at 20 steps back (guessing: 12%); 1 run still to score.")
    assert memory_probe.probe_sentence([]) == "No run of this probe has been scored yet."
