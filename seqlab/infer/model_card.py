"""The README.md that travels with an exported model: what it learned from, how, how well, and what it is not for.

Written for someone who gets the zip without seqlab: every figure comes from the run folder (config.json,
status.json), and the code shown runs with Keras alone. export.py puts it in the zip beside the model.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from seqlab.config import ModelConfig, TrainConfig
from seqlab.report import plain_words

GENERATE_USE = '''```python
import json, keras, numpy as np
model = keras.saving.load_model("model.keras")  # characters ids (batch, time) -> logits (batch, time, {size})
characters = json.load(open("vocabulary.json", encoding="utf-8"))["characters"]  # id = position
ids = [characters.index(c) for c in "{seed}"]
for _ in range(200):  # re-reads the whole text each step: slow, but exactly what the model computes
    logits = model.predict(np.array([ids]), verbose=0)[0, -1] / 0.8  # temperature 0.8
    p = np.exp(logits - logits.max())
    ids.append(int(np.random.choice(len(p), p=p / p.sum())))
print("".join(characters[i] for i in ids))
```'''

CLASSIFY_USE = '''```python
import re, keras, numpy as np
model = keras.saving.load_model("model.keras")  # review strings (batch,) -> P(positive) (batch, 1)
def clean(text):  # what seqlab does before the vectorizer: HTML line breaks and every kind of space -> one space
    return re.sub(r"\\s+", " ", re.sub(r"<br\\s*/?>", " ", text, flags=re.IGNORECASE)).strip()
print(model.predict(np.array([clean("A wonderful, moving film."), clean("Dull.")], dtype=object), verbose=0))
```'''


def corpus_name(corpus: str) -> str:
    """A built-in corpus or an address as given; a file by its name only (where it lived is nobody's business)."""
    from seqlab.corpus.registry import BUILTIN_CORPORA

    return corpus if corpus in BUILTIN_CORPORA or corpus.startswith(("http://", "https://")) else Path(corpus).name


def corpus_description(corpus: str) -> str:
    """A built-in corpus by name and description; anything else by corpus_name."""
    from seqlab.corpus.registry import BUILTIN_CORPORA

    info = BUILTIN_CORPORA.get(corpus)
    if info is not None:
        return f"`{info.name}`: {info.description} ({info.size}; {info.source})"
    return f"`{corpus_name(corpus)}`, the person's own corpus (not included)"


def _figure(value, digits: int = 4) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else "—"


def figures(model_config: ModelConfig, status: dict) -> list[str]:
    """The run's figures as Markdown lines: how good it is in plain words first, then the best validation loss
    (for experts), how long it trained, and the reference points in words."""
    task = model_config.task
    unit = "nats per character" if task == "generate" else "nats per review (binary cross-entropy)"
    reading = plain_words.quality_sentence(status.get("best_val_loss"), status.get("best_val_accuracy"), task)
    lines = [f"- How good: on held-out data, at its best it {reading}" if reading else
             "- How good: not measured yet (no validation round finished)",
             f"- Best validation loss: {_figure(status.get('best_val_loss'))} {unit}, at step "
             f"{status.get('best_step', '—')}; this is the model in the zip"]
    references = {name: value for name, value in (status.get("reference_losses") or {}).items()
                  if isinstance(value, int | float) and (name == "uniform" or (name, task) == ("unigram", "generate"))}
    if references:
        lines.append("- Reference points: " + ", ".join(plain_words.reference_words(name, task, value)
                                                        for name, value in references.items())
                     + (": what a model scores that learned nothing, or only how common each character is"
                        if task == "generate" else ": what a model scores that learned nothing"))
    lines.append(f"- Trained {status.get('step', '—')} steps in {_figure(status.get('elapsed_seconds'), 0)} s; "
                 f"{status.get('parameters', '—'):,} parameters; run state: {status.get('state', '—')}"
                 if isinstance(status.get("parameters"), int) else f"- Run state: {status.get('state', '—')}")
    return lines


def settings_table(model_config: ModelConfig, train_config: TrainConfig) -> list[str]:
    """The settings of config.json that mean something for the run's task, as a two-column Markdown table (the
    corpus by name only)."""
    rows = ["| setting | value |", "|---|---|"]
    for section, config in (("model", model_config), ("train", train_config)):
        for field in fields(config):
            if model_config.task not in field.metadata["setting"].tasks:
                continue
            value = getattr(config, field.name)
            value = corpus_name(value) if field.name == "corpus" else value
            rows.append(f"| {section}.{field.name} | {str(value).replace('|', '/') or '(empty)'} |")
    return rows


def limits(model_config: ModelConfig, train_config: TrainConfig) -> list[str]:
    """What the model cannot do, in plain words."""
    common = ["- Trained for teaching, on one corpus: a small model that shows how recurrent networks learn, not "
              "one to rely on."]
    if train_config.precision != "float32":
        common.append(f"- Trained with precision `{train_config.precision}`; this copy computes in float32, which "
                      "agrees with seqlab's own answers to about two decimals.")
    if model_config.task == "generate":
        return common + ["- Knows only the characters in vocabulary.json: map or drop any other before feeding it.",
                         "- Imitates spelling, words and layout of its corpus; what it writes is not true, and may "
                         "repeat the corpus word for word."]
    return common + [f"- Reads the first {train_config.sequence_length} words only; words outside its "
                     f"{model_config.vocabulary_size:,}-word vocabulary all count as one unknown word.",
                     "- Learned English review sentiment from its corpus, with that corpus's biases; do not use it "
                     "to decide anything about people.",
                     "- Clean texts first as shown above: the stock vectorizer alone would read `<br />` as the word "
                     "`br` (seqlab's own scorer applies that cleaning, which has no stock Keras layer)."]


def model_card(run_id: str, model_config: ModelConfig, train_config: TrainConfig, status: dict,
               seed: str = "") -> str:
    """The model card (README.md) for an exported run. `seed`: a few characters a generator knows, for the code."""
    cell = plain_words.cell_name(model_config.cell)
    layers = f"{model_config.num_layers} layer{'s' if model_config.num_layers > 1 else ''}"
    shape = (f"{cell}, {layers} of {model_config.units} units"
             + (", reading in both directions" if model_config.bidirectional and model_config.cell != "transformer"
                else "") + (f", {model_config.heads} attention heads" if model_config.cell == "transformer" else ""))
    if model_config.task == "generate":
        what = f"writes text one character at a time, like its corpus ({shape})"
        use = GENERATE_USE.replace("{size}", str(status.get("vocabulary_size", "vocabulary"))).replace(
            "{seed}", seed.replace("\\", "\\\\").replace('"', '\\"'))
        if model_config.cell == "transformer":  # it reads at most its context: the last sequence_length characters
            context = train_config.sequence_length
            use = use.replace("np.array([ids])", f"np.array([ids[-{context}:]])").replace(
                "# temperature 0.8", f"# temperature 0.8; it sees the last {context}")
    else:
        what = f"says how likely a review is positive ({shape}, pooling: {model_config.pooling})"
        use = CLASSIFY_USE
    kind = "text generator" if model_config.task == "generate" else "review classifier"
    parts = [f"# {run_id}: {cell} {kind} trained with seqlab", "",
             f"A teaching model that {what}. Made with seqlab, a playground for recurrent networks; this zip needs "
             "only Keras 3 (TensorFlow backend) to load: the model is built from Keras' own layers.", "",
             "## Use it", "", use, "",
             "## Data", "", f"- Corpus: {corpus_description(train_config.corpus)}",
             "- Held out for validation (the figures below): " + (
                 "the last 10% of the text" if model_config.task == "generate" else
                 "10% of the reviews, positives and negatives in their corpus shares"), "",
             "## Figures", "", *figures(model_config, status), "", "`metrics.jsonl`: every training step's loss, "
             "accuracy, gradient norm and learning rate, and every validation round.", "",
             "## Intended use and limits", "",
             "Intended use: learning and teaching how recurrent networks train and what they learn.", "",
             *limits(model_config, train_config), "",
             "## Files", "", "- `model.keras`: the network at its best validation loss",
             "- `config.json`: every setting, enough to train it again with seqlab",
             "- `vocabulary.json`: " + ("the characters, id = position" if model_config.task == "generate" else
                                        "the vectorizer's words, id = position (0 padding, 1 unknown)"),
             "- `metrics.jsonl`: the training curves", "", "## Settings", "", *settings_table(model_config,
                                                                                            train_config), ""]
    return "\n".join(parts)
