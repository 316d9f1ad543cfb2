"""Corpus -> vocabulary or vectorizer -> tf.data batches (or a series -> scaled windows): what a run feeds its model.

The worker (seqlab/runs/worker.py) calls `prepare_data` once per run, after the corpus passed the same
`check_trainable` test the Train page and `launch` ran before the run was created. Validation is the same
held-out share everywhere (corpus.statistics.VALIDATION_FRACTION): here, in evaluation and in the statistics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from seqlab.config import ModelConfig, TrainConfig
from seqlab.corpus.registry import Corpus
from seqlab.corpus.statistics import VALIDATION_FRACTION, check_trainable, corpus_statistics
from seqlab.encoding.datasets import classification_data, forecast_windows, generation_data, stratified_split
from seqlab.encoding.vocabulary import CharVocabulary, make_review_vectorizer
from seqlab.encoding.windows import Scale

SAMPLE_SEED_CHARACTERS = 40  # the samples written during training start with the corpus's first line, this long


@dataclass
class PreparedData:
    train: object  # tf.data.Dataset of (inputs, targets)
    validation: object
    steps_per_epoch: int
    tokens_per_step: int
    vocabulary_size: int
    vectorizer: object = None  # classify, new runs: the adapted TextVectorization the model will hold
    vocabulary: CharVocabulary | None = None  # generate
    sample_seed: str = ""  # generate: the text samples start from this
    reference_losses: dict | None = None  # the losses of guessing uniformly and by frequency, for the charts
    forecast: ForecastParts | None = None  # forecast runs: series.json's record and the validation windows


@dataclass
class ForecastParts:
    """What a forecast run needs beside its datasets: series.json and the last-position validation windows."""

    record: dict  # series.json (seqlab/runs/run_folder.py SERIES)
    scale: Scale
    validation_inputs: np.ndarray  # (windows, length, 1), scaled
    validation_targets: np.ndarray  # (windows, horizon), scaled


def prepare_data(corpus: Corpus, model_config: ModelConfig, train_config: TrainConfig,
                 vocabulary: CharVocabulary | None = None, vectorizer_needed: bool = True) -> PreparedData:
    """The run's datasets. Generation: `vocabulary` (a resumed run's own) or one made from the corpus. Reviews:
    a vectorizer adapted to the training split unless `vectorizer_needed` is False (a checkpoint holds its own)."""
    check_trainable(corpus, model_config.task, train_config.sequence_length)
    if model_config.task == "generate":
        return _generation(corpus, train_config, vocabulary or CharVocabulary.from_text(corpus.text))
    labels = np.asarray(corpus.labels)
    vectorizer = None
    if vectorizer_needed:
        train_index, _ = stratified_split(labels, VALIDATION_FRACTION, train_config.seed)
        vectorizer = make_review_vectorizer([corpus.texts[i] for i in train_index], model_config.vocabulary_size,
                                            train_config.sequence_length)
    train, validation, train_count, _ = classification_data(corpus.texts, labels, train_config.batch_size,
                                                            train_config.seed, max_words=train_config.sequence_length)
    share = float(labels.mean())
    prior = -(share * math.log(share) + (1 - share) * math.log(1 - share))
    return PreparedData(train, validation, math.ceil(train_count / train_config.batch_size),
                        train_config.batch_size * train_config.sequence_length, model_config.vocabulary_size,
                        vectorizer=vectorizer, reference_losses={"uniform": math.log(2), "unigram": prior})


def _generation(corpus: Corpus, train_config: TrainConfig, vocabulary: CharVocabulary) -> PreparedData:
    data = generation_data(vocabulary.encode(corpus.text, unknown="skip"), train_config.sequence_length,
                           train_config.batch_size, train_config.seed)
    stats = corpus_statistics(corpus)
    first_line = corpus.text.lstrip().split("\n", 1)[0][:SAMPLE_SEED_CHARACTERS]
    return PreparedData(data.train, data.validation, data.steps_per_epoch,
                        data.batch_size * train_config.sequence_length, vocabulary.size, vocabulary=vocabulary,
                        sample_seed=first_line or corpus.text[:20],
                        reference_losses={"uniform": stats["uniform_loss"], "unigram": stats["unigram_loss"]})


def prepare_forecast(series, train_config: TrainConfig) -> PreparedData:
    """A forecast run's data: the cut and the scaling (training part only), every training window shuffled
    each epoch, the validation windows, and series.json's record with the baselines."""
    from seqlab.corpus.series import season_of
    from seqlab.encoding import windows
    from seqlab.encoding.baselines import baseline_record

    length, horizon, values = train_config.sequence_length, train_config.horizon, series.values
    season = season_of(series, train_config.season_length)
    cut = windows.check_series_fits(series.name, len(values), length, horizon, season)
    scale = windows.fit_scale(values, cut.train_end)
    scaled = scale.apply(values)
    count = windows.training_window_count(cut.train_end, length, horizon)
    batch_size = max(1, min(train_config.batch_size, count))
    train = forecast_windows(scaled[:cut.train_end], length, horizon, batch_size, train_config.seed)
    validation = windows.last_position_windows(scaled, cut.train_end, cut.tail_start, length, horizon)
    baselines = baseline_record(values, cut, scale, length, horizon, season)
    record = {"name": series.name, "unit": series.unit, "values": [float(value) for value in values],
              "dates": series.dates, "missing_filled": series.missing_filled,
              "missing_dropped": series.missing_dropped, "value_column": series.value_column,
              "train_end": cut.train_end, "tail_start": cut.tail_start, "scale": scale.as_dict(),
              "season_length": int(season), "horizon": horizon, "sequence_length": length, "baselines": baselines}
    return PreparedData(train, None, count // batch_size, batch_size * length, 0,
                        reference_losses={name: entry["val_loss"] for name, entry in baselines.items()},
                        forecast=ForecastParts(record, scale, *validation))
