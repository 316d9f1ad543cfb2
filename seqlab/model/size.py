"""How big a model is and how much arithmetic it does per token, from its ModelConfig alone (no TensorFlow).

The Train page shows the parameter count before anything is built, and the time estimate (estimate.py) and the
benchmarks use the multiply-adds; tests hold both to what Keras builds.
"""

from __future__ import annotations

from seqlab.config import ModelConfig

GATES = {"simple_rnn": 1, "gru": 3, "lstm": 4}  # weight blocks per cell: input/forget/cell/output for LSTM
WORD_PAIR_DIM = 16  # the word-pair bag's vector size (fastText uses 10 for sentiment)


def layer_parameters(cell: str, input_dim: int, units: int) -> int:
    """Weights of one recurrent layer, as Keras builds it (GRU with reset_after=True has two biases)."""
    gates = GATES[cell]
    biases = 2 * gates * units if cell == "gru" else gates * units
    return gates * (input_dim * units + units * units) + biases


def attention_units(config: ModelConfig) -> int:
    """The size of attention pooling's hidden layer (v · tanh(W h + b)): that of the recurrent outputs it reads."""
    return (2 if config.bidirectional else 1) * config.units


def parameter_count(config: ModelConfig, vocabulary_size: int) -> int:
    """Total trainable parameters; `vocabulary_size` is characters (generate), words (classify) or the values
    predicted at once, the horizon (forecast)."""
    directions = 2 if config.bidirectional else 1
    total = vocabulary_size * config.embedding_dim
    input_dim = config.embedding_dim
    if config.task == "forecast":  # no embedding: each value projected to `units`; `vocabulary_size`: the horizon
        total, input_dim = 2 * config.units, config.units
    for _ in range(config.num_layers):
        total += directions * layer_parameters(config.cell, input_dim, config.units)
        input_dim = directions * config.units
    outputs = vocabulary_size if config.task in ("generate", "forecast") else 1
    if config.task == "classify" and config.pooling == "max_mean":
        input_dim *= 2  # max and mean side by side
    if config.task == "classify" and config.pooling == "attention":  # W, b and v (review_layers.AttentionPooling)
        total += input_dim * attention_units(config) + 2 * attention_units(config)
    if config.task == "classify" and config.word_pairs:
        total += (1 + config.word_pairs + vocabulary_size) * WORD_PAIR_DIM  # row 0: padding; pairs; words
        total += WORD_PAIR_DIM + 1  # the bag's own verdict
    return total + input_dim * outputs + outputs


def flops_per_token(config: ModelConfig, vocabulary_size: int) -> int:
    """Forward multiply-adds x 2 per input token (embedding lookups are free; output layer per step for generate)."""
    directions = 2 if config.bidirectional else 1
    gates = GATES[config.cell]
    input_dim, macs = config.embedding_dim, 0
    for _ in range(config.num_layers):
        macs += directions * gates * (input_dim * config.units + config.units * config.units)
        input_dim = directions * config.units
    if config.task == "generate":
        macs += input_dim * vocabulary_size
    elif config.pooling == "attention":  # each word's score v · tanh(W h + b)
        macs += (input_dim + 1) * attention_units(config)
    return 2 * macs
