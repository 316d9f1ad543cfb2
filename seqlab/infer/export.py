"""Models that leave seqlab: a run's best model rebuilt from Keras' own layers, so plain Keras loads it.

A run's model.keras names seqlab's classes (SeqlabModel, FusedLSTM, TrimPadding, ...): `keras.saving.load_model`
fails where seqlab is not installed. The fused layers are keras.layers.LSTM/GRU/SimpleRNN subclasses with the same
weights in the same gate order, so a stock layer takes their weights unchanged; seqlab's review layers become stock
layers and keras.ops (which Keras 3 saves in a functional model and loads in safe mode): TrimPadding goes (the
padding is masked anyway), MaskedMaxPooling is a where + max over the real words, WordPairBag the same hashing over
an Embedding table, AverageVerdicts an Average then a sigmoid, AttentionPooling two Dense layers and a masked
softmax (those two: export_review.py); a tiny Transformer is stock layers already but for its position signal
(export_transformer.py). The copy is checked against the original on probe inputs before it is handed out. What goes
with it into the zip: model_card.py.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seqlab.config import ModelConfig
from seqlab.errors import SeqlabError
from seqlab.infer.export_review import attention_pooling, attention_weights, word_pair_bag
from seqlab.infer.export_transformer import POSITION_TABLE, transformer_pooling, transformer_reader
from seqlab.runs import run_folder
from seqlab.runs.storage import write_bytes_atomic

if TYPE_CHECKING:
    import keras

    from seqlab.infer.loading import LoadedRun

TOLERANCE = 1e-4  # stock vs seqlab outputs on the probes (relative to logits above 1): float32 rounding of the
# same maths in another order
BFLOAT16_TOLERANCE = 2e-2  # a classifier trained in bfloat16 is scored in it by seqlab, in float32 once exported
PROBE_REVIEWS = 6


def stock_model(run: LoadedRun) -> keras.Model:
    """The run's model (infer.loading.LoadedRun) as stock Keras layers in float32, weights copied and checked."""
    config, original = run.model_config, run.model
    if config.task == "forecast":  # checked against the run's model there
        from seqlab.infer.forecast_export import stock_forecaster

        return stock_forecaster(config, original, run.train_config.horizon)
    if config.task == "generate":
        model = _generator(config, original)
    else:
        model = _classifier(config, original)
    _copy_weights(original, model)
    _check_same_outputs(run, original, model)
    return model


def _recurrent_stack(config: ModelConfig, x, return_last: bool):
    """model/builder.py's recurrent_stack with keras.layers' own cells (same names, so weights copy by name)."""
    import keras

    cells = {"simple_rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
    layer_class = cells[config.cell]
    for index in range(config.num_layers):
        last = index == config.num_layers - 1
        layer = layer_class(config.units, return_sequences=not (last and return_last), name=f"{config.cell}_{index}",
                            dtype="float32")
        if config.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{index}", dtype="float32")
        x = layer(x)
        if config.dropout and not last:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{index}", dtype="float32")(x)
    return x


def _generator(config: ModelConfig, original):
    """Character ids (batch, time) -> logits (batch, time, vocabulary), as build_model's generator."""
    import keras

    vocabulary_size, width = original.get_layer("embedding").get_weights()[0].shape
    inputs = keras.Input(shape=(None,), dtype="int32", name="characters")
    x = keras.layers.Embedding(vocabulary_size, width, name="embedding", dtype="float32")(inputs)
    if config.cell == "transformer":
        x = transformer_reader(config, original, x, inputs, causal=True)
    else:
        x = _recurrent_stack(config, x, return_last=False)
    if config.dropout and config.cell != "transformer":
        x = keras.layers.Dropout(config.dropout, name="dropout_out", dtype="float32")(x)
    outputs = keras.layers.Dense(vocabulary_size, name="logits", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=f"generate_{config.cell}")


def _vectorizer(original):
    """A new TextVectorization with the run's settings and vocabulary (the same words get the same ids)."""
    import keras

    old = vectorizer_of(original)
    settings = {key: value for key, value in old.get_config().items() if key not in ("vocabulary", "idf_weights")}
    vectorizer = keras.layers.TextVectorization.from_config(settings)
    vectorizer.set_vocabulary(old.get_vocabulary())
    return vectorizer


def vectorizer_of(model: keras.Model) -> keras.layers.TextVectorization | None:
    """A classifier's TextVectorization layer, or None."""
    import keras

    return next((layer for layer in model.layers if isinstance(layer, keras.layers.TextVectorization)), None)


def _classifier(config: ModelConfig, original):
    """Raw strings (batch,) -> P(positive) (batch, 1), as build_model's classifier (see the module docstring)."""
    import keras
    from keras import ops

    if vectorizer_of(original) is None:
        raise SeqlabError("This classifier holds no vectorizer", "a review model that takes raw strings",
                          "retrain the run with this version of seqlab")
    inputs = keras.Input(shape=(), dtype="string", name="review")
    ids = _vectorizer(original)(inputs)  # (batch, sequence length), 0 = padding at the end
    words, width = original.get_layer("embedding").get_weights()[0].shape
    x = keras.layers.Embedding(words, width, mask_zero=True, name="embedding", dtype="float32")(ids)
    if config.cell == "transformer":
        x = transformer_reader(config, original, x, ids, causal=False)
        x = transformer_pooling(config, x, ids, attention_pooling)
    elif config.pooling == "max_mean":
        x = _recurrent_stack(config, x, return_last=False)  # (batch, words, features), the mask travels with it
        # MaskedMaxPooling: padded steps count as -1, every cell's floor, so only real words can be the max
        real = ops.expand_dims(ops.not_equal(ids, 0), -1)
        strongest = ops.max(ops.where(real, x, -1.0), axis=1)
        mean = keras.layers.GlobalAveragePooling1D(name="mean", dtype="float32")(x)
        x = keras.layers.Concatenate(name="max_mean", dtype="float32")([strongest, mean])
    elif config.pooling == "attention":
        x = attention_pooling(config, _recurrent_stack(config, x, return_last=False), ids)
    else:
        x = _recurrent_stack(config, x, return_last=True)
    if config.dropout:
        x = keras.layers.Dropout(config.dropout, name="dropout_out", dtype="float32")(x)
    if not config.word_pairs:
        outputs = keras.layers.Dense(1, activation="sigmoid", name="positive", dtype="float32")(x)
        return keras.Model(inputs, outputs, name=f"classify_{config.cell}")
    reader = keras.layers.Dense(1, name="reader_logit", dtype="float32")(x)
    bag = keras.layers.Dense(1, name="bag_logit", dtype="float32")(word_pair_bag(original.get_layer("word_pairs"),
                                                                                ids))
    mean = keras.layers.Average(name="mean_logit", dtype="float32")([reader, bag])
    outputs = keras.layers.Activation("sigmoid", name="positive", dtype="float32")(mean)
    return keras.Model(inputs, outputs, name=f"classify_{config.cell}")


def _copy_weights(original, model) -> None:
    """Every weighted layer of the stock model takes the weights of the original's layer of the same name."""
    for layer in model.layers:
        if not layer.weights or layer.name == POSITION_TABLE:
            continue
        try:
            weights = original.get_layer(layer.name).get_weights()
        except ValueError:
            weights = attention_weights(original, layer.name)
        shapes = [tuple(weight.shape) for weight in layer.get_weights()]
        if weights is None or [tuple(np.shape(weight)) for weight in weights] != shapes:
            raise SeqlabError(f"The run's model has no layer '{layer.name}' shaped as its settings say",
                              "a model saved by this version of seqlab's builder",
                              "retrain the run, then export it")
        layer.set_weights([np.asarray(weight, np.float32) for weight in weights])


def probe_reviews(vocabulary: list[str]) -> list[str]:
    """A few reviews made of the run's own words (ids 2..), one of no known word: what the check feeds both models."""
    known = [word for word in vocabulary[2:] if word] or ["film"]
    rng = np.random.default_rng(0)
    reviews = [" ".join(rng.choice(known, size=length)) for length in (1, 3, 7, 20, 60)]
    return reviews[:PROBE_REVIEWS - 1] + ["zzqx unknownword"]


def _check_same_outputs(run, original, model) -> None:
    """Both models on the same probes: a mismatch is a bug here, never handed out as a working model."""
    import tensorflow as tf

    if run.model_config.task == "generate":  # against seqlab's sampler: the last position's logits
        from seqlab.infer.sampling import numpy_model

        sampler = numpy_model(original)
        length = min(24, run.train_config.sequence_length) if run.model_config.cell == "transformer" else 24
        probe = np.random.default_rng(0).integers(0, sampler.vocabulary_size, size=(2, length)).astype(np.int32)
        expected = sampler.warm(probe, sampler.initial_state(len(probe)))[0]
        actual = np.asarray(model(probe, training=False))[:, -1]
    else:
        from seqlab.infer.scoring import ReviewScorer

        probe = probe_reviews(vectorizer_of(model).get_vocabulary())
        expected = ReviewScorer(original, name=run.path.name).probabilities(probe)
        actual = model(tf.constant(probe), training=False)[:, 0]
    expected, actual = np.asarray(expected, np.float64), np.asarray(actual, np.float64)
    difference = float(np.max(np.abs(expected - actual)) / max(1.0, float(np.max(np.abs(expected)))))
    bfloat16 = any(layer.compute_dtype == "bfloat16" for layer in original.layers)
    tolerance = BFLOAT16_TOLERANCE if bfloat16 and run.model_config.task == "classify" else TOLERANCE
    if not difference <= tolerance:
        raise SeqlabError(f"The exported model differs from the run's by up to {difference:.2g}",
                          f"the same outputs within {tolerance}", "report this: seqlab cannot export this model")


def export_files(run_dir: Path, root: Path | None = None) -> dict[str, bytes]:
    """What an exported run is, file name -> contents: the stock model.keras, config.json, vocabulary.json,
    metrics.jsonl and the model card README.md. Only a run seqlab may load (loading.load_run's checks)."""
    from seqlab.infer.loading import load_run
    from seqlab.infer.model_card import model_card

    run = load_run(run_dir, root)
    model = stock_model(run)
    with tempfile.TemporaryDirectory(prefix="seqlab-export-") as folder:
        path = Path(folder) / run_folder.BEST_MODEL
        model.save(path)
        files = {run_folder.BEST_MODEL: path.read_bytes()}
    metrics = run.path / run_folder.METRICS
    files[run_folder.CONFIG] = (run.path / run_folder.CONFIG).read_bytes()
    files[run_folder.METRICS] = metrics.read_bytes() if metrics.is_file() else b""
    if run.model_config.task == "forecast":  # series.json (the scaling) instead of a vocabulary
        from seqlab.infer.forecast_export import forecast_files

        return files | forecast_files(run, model)
    if run.vocabulary is not None:
        vocabulary, seed = run.vocabulary.to_json(), _seed_for(run.vocabulary.characters)
    else:
        vocabulary, seed = json.dumps({"words": vectorizer_of(model).get_vocabulary()}, ensure_ascii=False), ""
    files |= {run_folder.VOCABULARY: vocabulary.encode("utf-8"),
              "README.md": model_card(run.path.name, run.model_config, run.train_config, run.status,
                                      seed).encode("utf-8")}
    return files


def _seed_for(characters: tuple[str, ...]) -> str:
    """A seed for the model card's code that the generator knows: "The " if it can, else its first letters."""
    wanted = "The "
    return wanted if all(character in characters for character in wanted) else "".join(
        character for character in characters if character.isalpha())[:3]


def export_zip(run_dir: Path, root: Path | None = None) -> bytes:
    """export_files as one zip, in memory (the app's download)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in export_files(run_dir, root).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def export_to_folder(run_dir: Path, out: Path, root: Path | None = None) -> list[Path]:
    """export_files written into `out` (made if missing; files of the same names are replaced)."""
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise SeqlabError(f"{out} is a file", "a folder to write the exported model into", "name a folder")
    files = export_files(run_dir, root)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            write_bytes_atomic(out / name, content)
    except OSError as error:
        raise SeqlabError(f"Could not write into {out} ({error.strerror or error})", "a folder you may write to",
                          "pick another --out folder") from None
    return [out / name for name in files]
