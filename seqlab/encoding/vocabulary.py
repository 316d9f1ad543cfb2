"""Encoding: a character vocabulary for generation, a word vectorizer for reviews.

Characters outside the vocabulary: `encode(..., unknown="error")` (the default,
used for seeds a person types) raises a SeqlabError naming them;
`unknown="skip"` drops them (used to score a model on a text it was not built
from). There is no catch-all "unknown" id, so the model's output layer has one
unit per real character and its loss compares directly to ln(vocabulary size).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqlab.errors import SeqlabError


@dataclass(frozen=True)
class CharVocabulary:
    """Sorted distinct characters of a corpus; id = position in `characters`."""

    characters: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> CharVocabulary:
        return cls(tuple(sorted(set(text))))

    @property
    def size(self) -> int:
        return len(self.characters)

    def _index(self) -> dict[str, int]:
        return {ch: i for i, ch in enumerate(self.characters)}

    def unknown_characters(self, text: str) -> list[str]:
        known = self._index()
        return sorted({ch for ch in text if ch not in known})

    def encode(self, text: str, unknown: str = "error") -> np.ndarray:
        """Text -> int32 ids (time,). See the module docstring for characters outside the vocabulary."""
        index = self._index()
        missing = self.unknown_characters(text)
        if missing and unknown == "error":
            shown = " ".join(repr(ch) for ch in missing[:10])
            raise SeqlabError(
                f"The text contains {len(missing)} character(s) this model never saw: {shown}",
                f"only characters from the training corpus ({self.size} distinct)",
                "remove or replace those characters",
            )
        return np.fromiter((index[ch] for ch in text if ch in index), dtype=np.int32)

    def decode(self, ids) -> str:
        return "".join(self.characters[int(i)] for i in ids)

    def to_json(self) -> str:
        return json.dumps({"characters": list(self.characters)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, payload: str) -> CharVocabulary:
        characters = json.loads(payload)["characters"]
        if not isinstance(characters, list) or not all(isinstance(c, str) and len(c) == 1 for c in characters):
            raise SeqlabError("The vocabulary file is damaged", "a JSON list of single characters",
                              "retrain the run, or restore vocabulary.json")
        return cls(tuple(characters))

    def save(self, path: Path) -> None:
        from seqlab.runs.storage import write_text_atomic

        write_text_atomic(Path(path), self.to_json())

    @classmethod
    def load(cls, path: Path) -> CharVocabulary:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


STANDARDIZE_MODES = ("lower_and_strip_punctuation", "lower", "strip_punctuation", "none")


def make_review_vectorizer(texts, vocabulary_size: int = 20000, max_length: int = 256,
                           standardize: str = "lower_and_strip_punctuation"):
    """A Keras TextVectorization adapted to `texts`: words -> ids, padded/truncated to max_length.

    Id 0 is padding (an Embedding with mask_zero=True masks it), id 1 is
    out-of-vocabulary. It lives inside the saved classifier, so a saved model
    takes raw strings and nobody has to ship a tokenizer next to it.
    """
    import keras
    import tensorflow as tf

    if standardize not in STANDARDIZE_MODES:
        raise SeqlabError(f"Unknown standardize mode '{standardize}'", f"one of {', '.join(STANDARDIZE_MODES)}",
                          "pick one of those")
    vectorizer = keras.layers.TextVectorization(
        max_tokens=vocabulary_size,
        output_mode="int",
        output_sequence_length=max_length,  # pads with 0 at the end, truncates the tail
        standardize=None if standardize == "none" else standardize,
        name="vectorizer",
    )
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(list(texts)).batch(1024))
    return vectorizer
