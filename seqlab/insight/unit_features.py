"""Which units follow which simple feature of the text: "inside quotes", "vowel", "position in the line"...

Why: a trained character model often grows units that track a feature nobody taught it (Karpathy's quote-detecting
cell is the famous one). The cheapest honest way to find them is to compute a few features a person understands at
every character and rank the units by how closely they move with each (Pearson's r over the text). A high r is a
hint, not proof: a long enough text and a model that predicts well make it a good one.

Every feature describes the state after reading the character at position t — what the unit could know by then:
  "inside quotes":       1 from an opening quote up to (not including) its closing quote. A double quote " always
                         opens or closes; a single quote ' does too unless it sits between two letters (an apostrophe,
                         as in don't). An empty line closes anything left open (a missing quote stops there).
  "inside brackets":     1 while more ( [ { are open than have been closed (any kind closes any kind).
  "position in the line": characters read since the last newline (0 at the newline itself).
  "just read a newline":  1 at a newline.
  "vowel":               1 at a, e, i, o, u (either case), 0 at every other character.
  "between words":       1 at a space, tab or newline.
"""

from __future__ import annotations

import numpy as np

from seqlab.errors import SeqlabError
from seqlab.insight.hidden_states import Trace

FEATURES = ("inside quotes", "inside brackets", "position in the line", "just read a newline", "vowel",
            "between words")
VOWELS = frozenset("aeiouAEIOU")
OPENING, CLOSING = frozenset("([{"), frozenset(")]}")


def text_features(text: str) -> dict[str, np.ndarray]:
    """Each feature of FEATURES as a float (len(text),) array; see the module docstring for their definitions."""
    inside_quotes, inside_brackets, line_position = (np.zeros(len(text)) for _ in range(3))
    open_quote, depth, since_newline = None, 0, 0
    for t, character in enumerate(text):
        if character == "\n" and t > 0 and text[t - 1] == "\n":
            open_quote = None  # an empty line: a paragraph ended, so did any quote left open
        if character == '"' or (character == "'" and not _between_letters(text, t)):
            open_quote = None if open_quote == character else (open_quote or character)
        depth = depth + 1 if character in OPENING else max(depth - (character in CLOSING), 0)
        since_newline = 0 if character == "\n" else since_newline + 1
        inside_quotes[t], inside_brackets[t], line_position[t] = open_quote is not None, depth > 0, since_newline
    characters = np.array(list(text)) if text else np.array([], dtype=str)
    return {"inside quotes": inside_quotes, "inside brackets": inside_brackets,
            "position in the line": line_position,
            "just read a newline": (characters == "\n").astype(float),
            "vowel": np.isin(characters, list(VOWELS)).astype(float),
            "between words": np.isin(characters, [" ", "\t", "\n"]).astype(float)}


def _between_letters(text: str, position: int) -> bool:
    return 0 < position < len(text) - 1 and text[position - 1].isalpha() and text[position + 1].isalpha()


def unit_series(trace: Trace) -> tuple[np.ndarray, list[dict]]:
    """Every unit's values over the text as columns (time, all units), and what each column is:
    {"layer", "unit", "state"} with state "hidden" (h) or "memory" (an LSTM's c)."""
    columns, labels = [], []
    for index, layer in enumerate(trace.layers):
        for state, values in (("hidden", layer.hidden), ("memory", layer.memory)):
            if values is not None:
                columns.append(values)
                labels += [{"layer": index, "unit": unit, "state": state} for unit in range(layer.units)]
    return np.concatenate(columns, axis=1).astype(np.float64), labels


def correlations(series: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Pearson's r of every column of `series` (time, n) with every column of `features` (time, k) -> (n, k).

    A constant column (no variance: a feature absent from the text, a saturated unit) correlates 0, not NaN.
    """
    def standardised(values: np.ndarray) -> np.ndarray:
        centred = values - values.mean(axis=0)
        spread = np.sqrt((centred ** 2).sum(axis=0))
        return np.divide(centred, spread, out=np.zeros_like(centred), where=spread > 1e-12 * len(values))

    return np.clip(standardised(series).T @ standardised(features), -1.0, 1.0)


def _check(trace: Trace, text: str) -> None:
    if len(text) != trace.length:
        raise SeqlabError(f"The text has {len(text)} characters but the trace {trace.length}",
                          "the text the trace was made from", "trace the same text you describe")


def unit_feature_table(trace: Trace, text: str) -> tuple[np.ndarray, list[dict]]:
    """r of every unit (rows, labelled as unit_series) with every feature (columns in FEATURES' order)."""
    _check(trace, text)
    series, labels = unit_series(trace)
    features = text_features(text)
    return correlations(series, np.stack([features[name] for name in FEATURES], axis=1)), labels


def describe(entry: dict) -> str:
    """'Layer 1 unit 37 follows "inside quotes" (r = 0.81)': layers and units counted from 1 for people."""
    memory = " memory" if entry["state"] == "memory" else ""
    return (f"Layer {entry['layer'] + 1} unit {entry['unit'] + 1}{memory} follows \"{entry['feature']}\" "
            f"(r = {entry['correlation']:.2f})")


def units_for_feature(trace: Trace, text: str, feature: str, count: int = 5) -> list[dict]:
    """The `count` units that follow one feature most closely (by |r|), strongest first; dicts as in top_units."""
    if feature not in FEATURES:
        raise SeqlabError(f"Unknown feature '{feature}'", f"one of {', '.join(FEATURES)}", "pick one of those")
    table, labels = unit_feature_table(trace, text)
    column = table[:, FEATURES.index(feature)]
    order = np.argsort(-np.abs(column), kind="stable")[:count]
    return [_entry(labels[row], feature, column[row]) for row in order]


def top_units(trace: Trace, text: str, count: int = 5) -> list[dict]:
    """Up to `count` units that follow a feature, each unit once: first the best unit of every feature (strongest
    first), then the next strongest pairs. Why not simply the strongest pairs: a slowly drifting memory cell
    correlates with "position in the line" over a short text, and a list of five of those says less than one
    unit per feature.

    Each dict: layer and unit (0-based indices into trace.layers and its arrays), state ("hidden" or "memory"),
    feature (plain words), correlation (signed r), text (describe's sentence). Pairs with r = 0 are left out.
    """
    table, labels = unit_feature_table(trace, text)
    strength = np.abs(table)  # (units, features)
    pairs = sorted(zip(*np.nonzero(strength > 0)), key=lambda pair: -strength[pair])  # (unit row, feature column)
    chosen, features_shown, rows_shown = [], set(), set()
    for first_round in (True, False):
        for row, column in pairs:
            if len(chosen) < count and row not in rows_shown and not (first_round and column in features_shown):
                chosen.append((row, column))
                features_shown.add(column)
                rows_shown.add(row)
    chosen.sort(key=lambda pair: -strength[pair])
    return [_entry(labels[row], FEATURES[column], table[row, column]) for row, column in chosen]


def _entry(label: dict, feature: str, correlation: float) -> dict:
    entry = label | {"feature": feature, "correlation": round(float(correlation), 4)}
    return entry | {"text": describe(entry)}
