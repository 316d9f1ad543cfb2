"""The memory-probe corpora: made-up text where the right next character depends on one N characters back.

Each line is a key, N distractor characters, a signpost '=', the answer, and a newline:

    copy, N=6:      ckqzjwm=c        the answer repeats the key (one of 8 letters: chance 1/8)
    brackets, N=6:  [kqzjwm=]        the answer closes the key's bracket (one of 4: chance 1/4)

Distractors come from letters that are never keys,
and the signpost makes the *position* of the answer obvious, so the only hard thing a model must do is carry the key
N steps through its memory — the experiment that shows where SimpleRNN forgets and LSTM/GRU do not. The training
text of `memory-copy-N` mixes lines of 1 to N distractors (evenly): a recurrent cell starts out forgetting
within a few steps, and the short lines teach it to hold the key before the long ones ask for N steps (with
lines of exactly 40, an LSTM was still at chance after 45 s of training). Evaluation lines have exactly N. The text is
made from a seed, so `memory-copy-20` is the same corpus on every machine, and it is named like a built-in corpus
(`memory-<kind>-<N>`, seqlab/corpus/registry.py) so runs, the CLI and the worker take it by name. Evaluation lines
come from another seed: the model has never seen them.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from seqlab.errors import SeqlabError

KEYS = {"copy": "abcdefgh", "brackets": "([{<"}
ANSWERS = {"copy": dict(zip("abcdefgh", "abcdefgh")), "brackets": {"(": ")", "[": "]", "{": "}", "<": ">"}}
DISTRACTORS = "ijklmnopqrstuvwxyz"  # never a key: the key is the only character worth remembering
SIGNPOST = "="
MIN_DISTANCE, MAX_DISTANCE = 1, 200
TARGET_CHARACTERS = 200_000  # trains in seconds; still thousands of lines at N = 200
TRAINING_SEED, EVALUATION_SEED = 26, 2026
NAME = re.compile(r"^memory-(copy|brackets)-([0-9]{1,3})$")
FAMILY_NAMES = {kind: f"memory-{kind}-N" for kind in KEYS}


def check_kind(kind: str) -> str:
    if kind not in KEYS:
        raise SeqlabError(f"'{kind}' is not a memory-probe corpus kind", f"one of {', '.join(KEYS)}",
                          "use --kind copy or --kind brackets")
    return kind


def check_distance(distance: object) -> int:
    """N as a whole number from MIN_DISTANCE to MAX_DISTANCE; SeqlabError otherwise."""
    if isinstance(distance, bool) or not isinstance(distance, int) or not MIN_DISTANCE <= distance <= MAX_DISTANCE:
        raise SeqlabError(f"'{distance}' is not a usable distance", f"a whole number of steps from {MIN_DISTANCE} "
                          f"to {MAX_DISTANCE}", "pick distances such as 5,10,20,40")
    return distance


def corpus_name(kind: str, distance: int) -> str:
    """'memory-copy-20': the built-in name of a probe corpus."""
    return f"memory-{check_kind(kind)}-{check_distance(distance)}"


def parse_name(name: object) -> tuple[str, int] | None:
    """('copy', 20) for 'memory-copy-20'; None for any other name (or a distance out of range)."""
    match = NAME.match(name) if isinstance(name, str) else None
    if not match or not MIN_DISTANCE <= int(match.group(2)) <= MAX_DISTANCE or match.group(2).startswith("0"):
        return None
    return match.group(1), int(match.group(2))


def chance(kind: str) -> float:
    """The accuracy of a guess that remembers nothing: one key among the kind's keys."""
    return 1 / len(KEYS[check_kind(kind)])


def answer_index(distance: int) -> int:
    """Where in a line the answer stands: after the key, N distractors and the signpost."""
    return check_distance(distance) + 2


def make_lines(kind: str, distance: int, count: int, seed: int, shortest: int | None = None) -> list[str]:
    """`count` lines (without their newline), from `seed`: the same arguments give the same lines. Each line has
    `distance` distractors, or with `shortest`, a number drawn evenly from `shortest` to `distance`."""
    keys, answers = KEYS[check_kind(kind)], ANSWERS[kind]
    generator = np.random.default_rng([seed, check_distance(distance), len(keys)])
    key_ids = generator.integers(0, len(keys), size=count)
    lengths = generator.integers(shortest or distance, distance + 1, size=count)
    filler = np.array(list(DISTRACTORS))[generator.integers(0, len(DISTRACTORS), size=(count, distance))]
    return [f"{keys[k]}{''.join(row[:n])}{SIGNPOST}{answers[keys[k]]}" for k, n, row in zip(key_ids, lengths, filler)]


@lru_cache(maxsize=8)
def corpus_text(kind: str, distance: int) -> str:
    """The training text of `memory-<kind>-<distance>`: about TARGET_CHARACTERS characters of lines whose
    distractor count is drawn from 1 to N (see the module docstring)."""
    line_length = (answer_index(distance) + 2 + 4) / 2  # the mean line: key, (N + 1) / 2 distractors, = answer \n
    lines = make_lines(kind, distance, int(TARGET_CHARACTERS // line_length), TRAINING_SEED, shortest=1)
    return "".join(line + "\n" for line in lines)


def evaluation_lines(kind: str, distance: int, count: int = 500) -> tuple[list[str], int]:
    """Fresh lines (another seed than the training text) and the index of the answer in each line, which is the
    only position a probe scores."""
    return make_lines(kind, distance, count, EVALUATION_SEED), answer_index(distance)


def describe(kind: str, distance: int | None = None) -> str:
    """One line for `python -m seqlab corpora` and the Data page."""
    what = {"copy": "repeat the letter seen", "brackets": "close the bracket opened"}[check_kind(kind)]
    steps = f"{distance} steps back" if distance is not None else (
        f"N steps back (N from {MIN_DISTANCE} to {MAX_DISTANCE}, e.g. memory-{kind}-20)")
    return f"Memory probe: {what} {steps}; chance {chance(kind):.1%}"
