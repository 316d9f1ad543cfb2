"""Experiment links: the Train form's settings as a short query, read back value by value without trusting it."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from seqlab.errors import SeqlabError
from seqlab.presets import preset_configs
from seqlab.report.experiment_link import (
    MAX_LINK_CHARACTERS,
    SHARED_FIELDS,
    decode,
    encode,
    full_link,
    parse_query,
    read_link,
)


def test_a_link_holds_only_what_differs_from_the_preset_and_reads_back_the_same():
    model, train = preset_configs("generate", "balanced", corpus="hamlet", cell="gru", num_layers=2,
                                  learning_rate=0.0035, clip="none", dropout=0.15)
    query, corpus_shared = encode(model, train, "balanced")
    assert corpus_shared
    assert dict(parse_qsl(query)) == {"task": "generate", "corpus": "hamlet", "preset": "balanced", "cell": "gru",
                                      "num_layers": "2", "dropout": "0.15", "learning_rate": "0.0035",
                                      "clip": "none"}
    experiment = read_link(full_link("http://teacher:8501/", query))
    assert experiment.problems == [] and experiment.configs() == (model, train)
    assert encode(*preset_configs("classify", "quick-demo"), "quick-demo")[0] == \
        "task=classify&corpus=imdb&preset=quick-demo"


def test_every_shared_setting_round_trips():
    model, train = preset_configs("classify", "best-quality", bidirectional=False, pooling="last", word_pairs=16384,
                                  time_budget_seconds=0.0, epochs=7, max_steps=90, seed=7, precision="bfloat16",
                                  weight_average_steps=50, learning_rate_schedule="constant", weight_dropout=0.2)
    query, _ = encode(model, train, "best-quality")
    assert read_link("?" + query).configs() == (model, train)
    assert {"text_column", "label_column", "corpus", "task"}.isdisjoint(SHARED_FIELDS)  # no free text, no paths


def test_an_uploaded_corpus_stays_out_of_the_link(tmp_path):
    model, train = preset_configs("generate", "quick-demo", corpus=str(tmp_path / "mine.txt"), units=64)
    query, corpus_shared = encode(model, train, "quick-demo")
    assert not corpus_shared and "corpus" not in query and "units=64" in query
    experiment = decode({"task": "generate", "corpus": "/etc/passwd", "units": "64"})
    assert experiment.corpus is None and experiment.configs()[1].corpus == "tiny-shakespeare"
    assert "not a built-in corpus" in experiment.problems[0]
    assert decode({"task": "classify", "corpus": "hamlet"}).problems  # a built-in, but of the other task
    assert decode({"task": "classify", "corpus": "imdb-full"}).corpus is None  # needs a download first


@pytest.mark.parametrize("params,message", [
    ({"units": "lots"}, "The link's units is 'lots'. Expected a whole number"),
    ({"units": "99999"}, "units is 99999. Expected a value from 4 to 2048"),
    ({"learning_rate": "nan"}, "learning_rate is nan"),
    ({"cell": "mamba"}, "Unknown cell 'mamba'"),
    ({"task": "translate"}, "task 'translate' is not one seqlab has"),
    ({"preset": "huge"}, "preset 'huge' does not exist"),
    ({"colour": "red"}, "unknown setting 'colour'"),
    ({"word_pairs": "16384"}, "word_pairs applies only to classify"),
    ({"text_column": "review"}, "unknown setting 'text_column'"),
    ({"task": "classify", "bidirectional": "maybe"}, "Expected yes or no"),
])
def test_each_bad_value_is_named_and_the_rest_still_applies(params, message):
    experiment = decode({"num_layers": "3", **params})
    assert any(message in problem for problem in experiment.problems), experiment.problems
    assert experiment.configs()[0].num_layers == 3  # the rest applies, and makes a valid experiment


def test_page_keys_are_not_settings_and_size_is_bounded():
    assert decode({"run": "20261124-abc", "share": "token", "units": "64"}).problems == []
    with pytest.raises(SeqlabError, match="longer than"):
        parse_query("units=" + "9" * MAX_LINK_CHARACTERS)
    many = "&".join(f"x{index}=1" for index in range(200))
    with pytest.raises(ValueError):  # parse_qsl's own cap on fields: never a huge dict
        parse_query(many)
