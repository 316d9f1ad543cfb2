"""Everything `inspect-run` shows about one text, as one JSON-ready dict: the CLI prints it, the page draws it.

Why one function: the CLI and the app must tell the same story about the same text (states, the units that follow
a feature, which characters a prediction leaned on, how far back the model looks), so both call inspect_text and
only format differently. Arrays become lists rounded to 4 decimals: plenty for a chart, a fraction of the size.
"""

from __future__ import annotations

import numpy as np

from seqlab.errors import SeqlabError
from seqlab.insight.hidden_states import GATE_MEANINGS, Trace, encode_text, trace_text
from seqlab.insight.influence import influence, influence_by_distance, prediction_target, strongest_characters
from seqlab.insight.unit_features import top_units
from seqlab.insight.windows import WINDOW_COUNT, WINDOW_LENGTH, run_windows

DECIMALS = 4
# What the Inside page and inspect-run say about a Transformer: everything here follows a recurrent memory
NO_RECURRENT_MEMORY = ("A Transformer has no memory carried from character to character: it looks back with "
                       "attention instead, at every earlier character of its window at once. So there are no "
                       "memory units or gates to look inside here.")


def require_recurrent(cell: str) -> None:
    """SeqlabError for a Transformer run: the units, gates and reach shown here trace a recurrent memory."""
    if cell == "transformer":
        raise SeqlabError(NO_RECURRENT_MEMORY.rstrip("."), "a SimpleRNN, LSTM or GRU run",
                          "pick a run of a recurrent cell; a Transformer run still writes text on the Generate page")


def _rounded(values: np.ndarray) -> list:
    return np.round(np.asarray(values, np.float64), DECIMALS).tolist()


def layer_values(trace: Trace) -> list[dict]:
    """Per layer: cell, units, hidden (time x units), memory (LSTM) and gates as rounded nested lists."""
    return [{"layer": index, "cell": layer.cell, "units": layer.units, "hidden": _rounded(layer.hidden),
             "memory": None if layer.memory is None else _rounded(layer.memory),
             "gates": {name: _rounded(values) for name, values in layer.gates.items()}}
            for index, layer in enumerate(trace.layers)]


def predictions(trace: Trace, vocabulary) -> list[dict]:
    """What the model expected after each character: its top guess and the chance it gave the real next one."""
    characters = vocabulary.characters
    return [{"position": t, "character": characters[int(trace.ids[t])],
             "next": characters[int(trace.ids[t + 1])] if t + 1 < trace.length else None,
             "probability_of_next": None if t + 1 == trace.length else round(float(trace.next_probability[t]), 4),
             "top_guess": characters[int(trace.top_guess[t])],
             "top_probability": round(float(trace.top_probability[t]), 4)}
            for t in range(trace.length)]


def check_position(position: int | None, length: int) -> int:
    """The position to explain: default the last character; SeqlabError outside the text."""
    if position is None:
        return length - 1
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position < length:
        raise SeqlabError(f"The position is {position!r}", f"a character position from 0 to {length - 1} "
                          "(0 is the first character)", "pick a position inside the text, or leave it out for the "
                          "last one")
    return position


def inspect_text(run, text: str, position: int | None = None, top: int = 5, windows: int = WINDOW_COUNT,
                 window_length: int = WINDOW_LENGTH, numpy_model=None) -> dict:
    """Look inside a generate run (a LoadedRun) on `text`. Keys: text, cell, gate_meanings, layers (layer_values),
    predictions, top_units, influence (for the prediction after `position`, default the last character) and
    influence_by_distance (influence_by_distance's dict plus "source"). numpy_model: the run's NumpyCharModel if the
    caller already has one."""
    from seqlab.infer.numpy_cells import NumpyCharModel

    require_recurrent(run.model_config.cell)
    ids = encode_text(run.vocabulary, text)
    position = check_position(position, len(ids))
    if not isinstance(top, int) or isinstance(top, bool) or not 1 <= top <= 100:
        raise SeqlabError(f"top is {top!r}", "a whole number of units from 1 to 100", "ask for the top 5 units")
    trace = trace_text(numpy_model or NumpyCharModel.from_keras(run.model), ids)
    values = influence(run.model, ids, position)
    target = prediction_target(run.model, ids, position)
    chosen, source = run_windows(run, text, windows, window_length)
    return {"text": text, "cell": run.model_config.cell, "gate_meanings": GATE_MEANINGS,
            "layers": layer_values(trace), "predictions": predictions(trace, run.vocabulary),
            "top_units": top_units(trace, text, top),
            "influence": {"position": position, "character": text[position],
                          "predicted": run.vocabulary.characters[target],
                          "predicted_is": "the next character" if position + 1 < len(ids) else "the model's top guess",
                          "values": _rounded(values), "strongest": strongest_characters(ids, run.vocabulary, values)},
            "influence_by_distance": influence_by_distance(run.model, chosen) | {"source": source}}
