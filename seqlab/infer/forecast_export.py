"""A forecast run as plain Keras: the forecaster from stock layers, its series.json, and its model card.

As export.py does for text and review models: the fused recurrent layers become keras.layers' own (same weights),
the copy is checked against the run's model on a probe before it is handed out. The scaling travels in series.json
(a forecaster reads and writes scaled values), and the model card shows how to use both with Keras alone.
"""

from __future__ import annotations

import json

import numpy as np

from seqlab.config import ModelConfig, TrainConfig
from seqlab.errors import SeqlabError
from seqlab.infer.model_card import corpus_description, figures, settings_table
from seqlab.report import plain_words

TOLERANCE = 1e-4

FORECAST_USE = '''```python
import json, keras, numpy as np
model = keras.saving.load_model("model.keras")  # scaled values (batch, time, 1) -> next {horizon} after each position
series = json.load(open("series.json"))
mean, std = series["scale"]["mean"], series["scale"]["std"]
window = (np.array(series["values"][-{length}:]) - mean) / std  # the last {length} values, scaled
next_values = model.predict(window[None, :, None], verbose=0)[0, -1] * std + mean
print(next_values)  # for more, append them to the window and predict again
```'''


def stock_forecaster(config: ModelConfig, original, horizon: int):
    """build_model's forecaster from keras.layers' own layers in float32, the run's weights copied and checked."""
    import keras

    from seqlab.infer.export import _copy_weights, _recurrent_stack

    inputs = keras.Input(shape=(None, 1), dtype="float32", name="values")
    x = keras.layers.Dense(config.units, name="projection", dtype="float32")(inputs)
    length = 30
    if config.cell == "transformer":  # causal, as for text; the positions counted along each window
        from keras import ops

        from seqlab.infer.export_transformer import context_of, transformer_reader

        x = transformer_reader(config, original, x, ops.ones_like(inputs[..., 0], dtype="int32"), causal=True)
        length = min(length, context_of(original))
    else:
        x = _recurrent_stack(config, x, return_last=False)
    if config.dropout and config.cell != "transformer":
        x = keras.layers.Dropout(config.dropout, name="dropout_out", dtype="float32")(x)
    outputs = keras.layers.Dense(horizon, name="forecast", dtype="float32")(x)
    model = keras.Model(inputs, outputs, name=f"forecast_{config.cell}")
    _copy_weights(original, model)
    probe = np.random.default_rng(0).normal(size=(2, length, 1)).astype(np.float32)
    expected = np.asarray(original(probe, training=False), np.float64)
    difference = float(np.max(np.abs(expected - np.asarray(model(probe, training=False), np.float64))))
    if not difference <= TOLERANCE * max(1.0, float(np.max(np.abs(expected)))):
        raise SeqlabError(f"The exported model differs from the run's by up to {difference:.2g}",
                          f"the same outputs within {TOLERANCE}", "report this: seqlab cannot export this model")
    return model


def forecast_card(run_id: str, model_config: ModelConfig, train_config: TrainConfig, status: dict,
                  record: dict) -> str:
    """README.md of an exported forecast run."""
    cell = plain_words.cell_name(model_config.cell)
    layers = f"{model_config.num_layers} layer{'s' if model_config.num_layers > 1 else ''}"
    use = FORECAST_USE.replace("{horizon}", str(train_config.horizon)).replace(
        "{length}", str(train_config.sequence_length))
    baselines = record.get("baselines", {})
    tail = [f"- {name.replace('_', '-')} forecast on the held-out tail: MAE {entry['tail_mae']:.4g}, RMSE "
            f"{entry['tail_rmse']:.4g} (`python -m seqlab forecast` compares the model there)"
            for name, entry in baselines.items()]
    parts = [f"# {run_id}: {cell} forecaster trained with seqlab", "",
             f"A teaching model that reads the last {train_config.sequence_length} values of a series and predicts "
             f"the next {train_config.horizon} ({cell}, {layers} of {model_config.units} units). It needs only "
             "Keras 3 (TensorFlow backend): the model is built from Keras' own layers.", "",
             "## Use it", "", use, "",
             "## Data", "", f"- Series: {corpus_description(train_config.corpus)}",
             f"- Values {record.get('train_end')} to {record.get('tail_start')} validated (the figures below); the "
             f"last {len(record.get('values', [])) - int(record.get('tail_start', 0))} are a held-out tail; the "
             "scaling was fitted on the training part only", "",
             "## Figures", "", *forecast_figures(status), figures(model_config, status)[-1], *tail, "",
             "## Intended use and limits", "",
             "- Trained for teaching, on one series: it knows nothing of the world beyond those numbers; a forecast "
             "far ahead feeds its own guesses back in and drifts.", "",
             "## Files", "", "- `model.keras`: the network at its best validation loss (scaled values)",
             "- `series.json`: the series, its cut, its scaling and the baselines' scores",
             "- `config.json`: every setting", "- `metrics.jsonl`: the training curves", "",
             "## Settings", "", *settings_table(model_config, train_config), ""]
    return "\n".join(parts)


def forecast_figures(status: dict) -> list[str]:
    """The best validation round in the series' units (the scaled MSE for experts)."""
    mae, rmse, loss = (status.get(key) for key in ("best_val_mae", "best_val_rmse", "best_val_loss"))
    if not all(isinstance(value, int | float) for value in (mae, rmse, loss)):
        return ["- How good: not measured yet (no validation round finished)"]
    return [f"- How good: on the validation values, its forecasts are off by {mae:.4g} on average (RMSE {rmse:.4g})",
            f"- Best validation loss: {loss:.4f} (mean squared error on scaled values), at step "
            f"{status.get('best_step', '—')}; this is the model in the zip"]


def forecast_files(run, model) -> dict[str, bytes]:
    """series.json and the model card for export_files (besides model.keras, config.json, metrics.jsonl)."""
    from seqlab.infer.forecasting import read_series_record

    record = read_series_record(run.path)
    card = forecast_card(run.path.name, run.model_config, run.train_config, run.status, record)
    return {"series.json": json.dumps(record).encode("utf-8"), "README.md": card.encode("utf-8")}
