import json
from dataclasses import replace

import pytest

from seqlab.config import (
    ModelConfig,
    TrainConfig,
    configs_from_json,
    configs_to_json,
    validate_model_config,
    validate_train_config,
)
from seqlab.errors import SeqlabError
from seqlab.model.size import flops_per_token, parameter_count
from seqlab.presets import default_configs


def test_json_round_trip():
    model, train = default_configs("classify", cell="gru", bidirectional=True, clip="value", clip_threshold=0.5)
    assert configs_from_json(configs_to_json(model, train)) == (model, train)


def test_task_defaults_differ():
    generate_model, generate_train = default_configs("generate")
    classify_model, classify_train = default_configs("classify")
    assert generate_train.corpus == "tiny-shakespeare" and classify_train.corpus == "imdb"
    assert classify_train.sequence_length != generate_train.sequence_length


@pytest.mark.parametrize("change,fragment", [
    ({"cell": "mamba"}, "Unknown cell 'mamba'"),
    ({"cell": "transformer", "units": 250, "heads": 4}, "cannot be split evenly among 4 heads"),
    ({"num_layers": 5}, "num_layers is 5"),
    ({"units": 0}, "units is 0"),
    ({"dropout": 0.95}, "dropout is 0.95"),
    ({"weight_dropout": -0.1}, "weight_dropout is -0.1"),
    ({"task": "translate"}, "Unknown task"),
    ({"bidirectional": True}, "bidirectional only for classify"),
    ({"task": "classify", "word_pairs": 2_000_000}, "word_pairs is 2000000"),
    ({"word_pairs": 131072}, "word pairs only for classify"),
])
def test_model_validation_explains(change, fragment):
    with pytest.raises(SeqlabError, match=fragment) as caught:
        validate_model_config(replace(ModelConfig(), **change))
    assert "Expected" in str(caught.value) and "Fix:" in str(caught.value)


@pytest.mark.parametrize("change,fragment", [
    ({"learning_rate": 0.0}, "learning_rate is 0.0"),
    ({"learning_rate": float("nan")}, "learning_rate is nan"),
    ({"clip": "sometimes"}, "Unknown clip 'sometimes'"),
    ({"clip": "norm", "clip_threshold": -1.0}, "clip_threshold is -1.0"),
    ({"sequence_length": 1}, "sequence_length is 1"),
    ({"batch_size": 0}, "batch_size is 0"),
    ({"weight_average_steps": -1}, "weight_average_steps is -1"),
    ({"corpus": " "}, "No corpus"),
])
def test_train_validation_explains(change, fragment):
    with pytest.raises(SeqlabError, match=fragment):
        validate_train_config(replace(TrainConfig(), **change))


def test_no_clipping_accepts_any_threshold():
    validate_train_config(replace(TrainConfig(), clip="none", clip_threshold=0.0))


def test_edited_config_json_gets_messages():
    model, train = default_configs("generate")
    data = json.loads(configs_to_json(model, train))
    data["model"]["units"] = "many"
    with pytest.raises(SeqlabError, match="model.units is 'many'"):
        configs_from_json(json.dumps(data))
    data["model"]["units"] = 64
    data["train"]["colour"] = "red"
    with pytest.raises(SeqlabError, match="unknown train settings: colour"):
        configs_from_json(json.dumps(data))
    with pytest.raises(SeqlabError, match="not valid JSON"):
        configs_from_json("{broken")
    with pytest.raises(SeqlabError, match="lacks its 'model' and 'train'"):
        configs_from_json("[]")


def test_unknown_override():
    with pytest.raises(SeqlabError, match="Unknown settings: colour"):
        default_configs("generate", colour="red")


def test_parameter_count_by_hand():
    config = ModelConfig(cell="lstm", num_layers=1, units=10, embedding_dim=4)
    # embedding 20*4, LSTM 4*(4*10 + 10*10 + 10), dense 10*20 + 20
    assert parameter_count(config, 20) == 80 + 4 * 150 + 220
    gru = replace(config, cell="gru")
    assert parameter_count(gru, 20) == 80 + 3 * (40 + 100) + 2 * 30 + 220
    assert flops_per_token(config, 20) == 2 * (4 * (40 + 100) + 200)
