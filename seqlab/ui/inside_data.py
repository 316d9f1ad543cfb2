"""Inside the network, the numbers behind the page: the run loaded once per server, each look at a text cached.

The maths is seqlab/insight's (the CLI's `inspect-run` tells the same story); this module only decides what is
computed when, so that a click never waits: the trace and the unit ranking of a passage are cached per model file
and passage, the influence per model file and prefix, and a run's reach (64 backward passes of 100 characters,
about a second) per model file. Models load once per server under their recorded checksum, as the Generate page's
do (seqlab/ui/loaded_runs.py), and on the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from seqlab.insight.hidden_states import MAX_TRACE_CHARACTERS, Trace
from seqlab.ui.loaded_runs import _loaded, inference_on_cpu, model_checksum

MAX_PASSAGE = min(MAX_TRACE_CHARACTERS, 500)  # a passage a page can trace, rank and explain well under a second
TOP_UNITS = 6
# The built-in passage: Hamlet, with a quoted letter, a stage direction in brackets and new lines, so that every
# feature the units are ranked by occurs in it. Characters a model never saw are adapted (default_passage).
SAMPLE_PASSAGE = ("POLONIUS:\nWhat do you read, my lord?\n\nHAMLET:\nWords, words, words.\n\n"
                  "POLONIUS (reading):\n\"Doubt thou the stars are fire;\nDoubt that the sun doth move;\n"
                  "Doubt truth to be a liar;\nBut never doubt I love.\"\n\nHAMLET:\nTo be, or not to be: "
                  "that is the question:\nWhether 'tis nobler in the mind to suffer\nThe slings and arrows of "
                  "outrageous fortune,\nOr to take arms against a sea of troubles.\n")


@dataclass
class Look:
    """One passage seen through one model: the trace, every unit's r with every feature, the top units."""

    text: str
    trace: Trace
    table: np.ndarray  # (all units, features): Pearson's r, rows labelled by `labels`
    labels: list[dict]  # {"layer", "unit", "state"} per row of `table`
    top: list[dict]  # unit_features.top_units
    features: dict[str, np.ndarray]  # unit_features.text_features


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def _load(run_path: str, checksum: str):
    """(LoadedRun, NumpyCharModel): Keras for the gradients, NumPy for the trace."""
    from seqlab.infer.loading import load_run, require_task
    from seqlab.infer.numpy_cells import NumpyCharModel

    inference_on_cpu()
    run = require_task(load_run(Path(run_path), checksum=checksum), "generate", "be looked inside")
    return run, NumpyCharModel.from_keras(run.model)


def loaded(run_dir: Path):
    """The run's (LoadedRun, NumpyCharModel), loaded once per server for this model file (SeqlabError if it cannot
    be)."""
    return _loaded(_load, run_dir)


def default_passage(vocabulary, fallback: str = "") -> str:
    """SAMPLE_PASSAGE in characters the model knows: double quotes become single ones and brackets are dropped
    where the corpus had none (Tiny Shakespeare has neither); `fallback` (the corpus's start) if anything else is
    still unknown."""
    text = SAMPLE_PASSAGE
    known = set(vocabulary.characters)
    if '"' not in known:
        text = text.replace('"', "'")
    text = "".join(character for character in text if character in known or character not in "()[]{}")
    if not vocabulary.unknown_characters(text):
        return text
    return "".join(character for character in fallback[:MAX_PASSAGE] if character in known)


@st.cache_data(max_entries=8, show_spinner=False)
def corpus_start(corpus: str) -> str:
    """The first MAX_PASSAGE characters of a run's text corpus (a built-in one or a file still there; never a
    download), cut after its last full line; empty if it cannot be read."""
    from seqlab.corpus.registry import load_corpus
    from seqlab.errors import SeqlabError

    if "://" in corpus:
        return ""
    try:
        text = load_corpus(corpus, allow_download=False).text[:MAX_PASSAGE]
    except (SeqlabError, OSError):
        return ""
    return text[:text.rfind("\n") + 1] or text


def unknown_message(characters: list[str]) -> str:
    """'This model never saw '€' or '☃' in its training text, so it cannot read them. ...'"""
    from seqlab.ui.inside_charts import spoken

    names = [spoken(character) for character in characters[:8]] + (["…"] if len(characters) > 8 else [])
    return (f"This model never saw {', '.join(names[:-1]) + ' or ' + names[-1] if len(names) > 1 else names[0]} in "
            "its training text, so it cannot read that. Remove those characters, or go back to the sample passage.")


@st.cache_data(max_entries=16, show_spinner="Reading the passage through the model…")
def look(_models, checksum: str, text: str) -> Look:
    """The passage's trace and unit ranking, cached per model file (its checksum) and passage."""
    from seqlab.insight.hidden_states import encode_text, trace_text
    from seqlab.insight.unit_features import text_features, top_units, unit_feature_table

    run, numpy_model = _models
    trace = trace_text(numpy_model, encode_text(run.vocabulary, text))
    table, labels = unit_feature_table(trace, text)
    return Look(text, trace, table, labels, top_units(trace, text, TOP_UNITS), text_features(text))


@st.cache_data(max_entries=64, show_spinner="Measuring what the prediction looked back at…")
def influence_before(_models, checksum: str, text: str) -> np.ndarray:
    """How much each character of text[:-1] mattered to the prediction of text[-1] (gradient sizes, (len - 1,))."""
    from seqlab.insight.influence import influence

    run, _ = _models
    ids = run.vocabulary.encode(text)
    return influence(run.model, ids, len(ids) - 2)[:-1]


@st.cache_data(max_entries=16, show_spinner="Measuring how far back the model looks (a second or two)…")
def run_reach(_models, checksum: str, fallback_text: str) -> dict:
    """influence_by_distance on the validation part of the run's corpus ('source' says where the windows came from;
    `fallback_text` stands in when the corpus cannot be read)."""
    from seqlab.insight.influence import influence_by_distance
    from seqlab.insight.windows import run_windows

    run, _ = _models
    windows, source = run_windows(run, fallback_text)
    return influence_by_distance(run.model, windows) | {"source": source}


def reach_for(item: dict) -> dict:
    """run_reach for a run (a jobs.list_runs row), loading its model if need be; the passage the page would show
    first stands in for a corpus that cannot be read. SeqlabError if the model cannot be loaded."""
    run_dir = Path(item["path"])
    models = loaded(run_dir)
    fallback = default_passage(models[0].vocabulary, corpus_start(str(item["train"]["corpus"])))
    return run_reach(models, model_checksum(run_dir), fallback)


def ranked_units(found: Look, layer: int, state: str) -> list[tuple[int, str, float]]:
    """(unit, feature it follows best, r) for every unit of one layer's `state` ("hidden" or "memory"), the
    strongest first: the heatmap's rows."""
    from seqlab.insight.unit_features import FEATURES

    rows = [index for index, label in enumerate(found.labels) if label["layer"] == layer and label["state"] == state]
    table = found.table[rows]
    best = np.abs(table).argmax(axis=1)
    strength = table[np.arange(len(rows)), best]
    order = np.argsort(-np.abs(strength), kind="stable")
    return [(found.labels[rows[i]]["unit"], FEATURES[best[i]], float(strength[i])) for i in order]


def unit_values(found: Look, layer: int, state: str) -> np.ndarray:
    """(time, units) values of one layer: its output h ("hidden") or an LSTM's memory c ("memory")."""
    trace_layer = found.trace.layers[layer]
    return trace_layer.memory if state == "memory" else trace_layer.hidden
