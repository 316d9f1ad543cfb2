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


def directions(config: ModelConfig) -> int:
    """2 for a bidirectional recurrent reader, else 1 (a Transformer sees the whole review at once: the setting
    means nothing to it)."""
    return 2 if config.bidirectional and config.cell != "transformer" else 1


def attention_units(config: ModelConfig) -> int:
    """The size of attention pooling's hidden layer (v · tanh(W h + b)): that of the reader's outputs it reads."""
    return directions(config) * config.units


def transformer_block_parameters(units: int) -> int:
    """One Transformer block (model/transformer.py): two LayerNorms (scale and shift each), attention's query, key,
    value and output projections with biases, and the MLP (units -> 4 units -> units) with biases."""
    norms = 2 * 2 * units
    attention = 4 * (units * units + units)
    mlp = units * 4 * units + 4 * units + 4 * units * units + units
    return norms + attention + mlp  # 12 units² + 13 units


def input_width(config: ModelConfig) -> int:
    """The width of what the reading layers take in: a forecaster projects each value to `units` numbers, a
    Transformer's token vectors are `units` wide, a recurrent reader's `embedding_dim`."""
    return config.units if config.task == "forecast" or config.cell == "transformer" else config.embedding_dim


def _reader(config: ModelConfig, vocabulary_size: int, sequence_length: int) -> tuple[int, int]:
    """(parameters of the embedding, or a forecaster's projection, and the layers that read the sequence, the
    width of their outputs)."""
    if config.task == "forecast":  # no embedding: each value projected to `units` (a weight and a bias each)
        total = 2 * config.units
    else:
        total = vocabulary_size * input_width(config)
    if config.cell == "transformer":
        positions = sequence_length * config.units if config.positions == "learned" else 0
        blocks = config.num_layers * transformer_block_parameters(config.units)
        return total + positions + blocks + 2 * config.units, config.units  # + final norm
    input_dim = input_width(config)
    for _ in range(config.num_layers):
        total += directions(config) * layer_parameters(config.cell, input_dim, config.units)
        input_dim = directions(config) * config.units
    return total, input_dim


def parameter_count(config: ModelConfig, vocabulary_size: int, sequence_length: int = 0) -> int:
    """Total trainable parameters; `vocabulary_size` is characters (generate), words (classify) or the values
    predicted at once, the horizon (forecast); `sequence_length` (TrainConfig's) counts only for a Transformer
    with learned positions (a vector each)."""
    total, input_dim = _reader(config, vocabulary_size, sequence_length)
    outputs = vocabulary_size if config.task in ("generate", "forecast") else 1
    if config.task == "classify" and config.pooling == "max_mean":
        input_dim *= 2  # max and mean side by side
    if config.task == "classify" and config.pooling == "attention":  # W, b and v (review_layers.AttentionPooling)
        total += input_dim * attention_units(config) + 2 * attention_units(config)
    if config.task == "classify" and config.word_pairs:
        total += (1 + config.word_pairs + vocabulary_size) * WORD_PAIR_DIM  # row 0: padding; pairs; words
        total += WORD_PAIR_DIM + 1  # the bag's own verdict
    return total + input_dim * outputs + outputs


def attended_positions(config: ModelConfig, sequence_length: int) -> float:
    """How many positions a Transformer's token attends to, on average over a training window: text looks back
    only ((T + 1) / 2 over a window of T), a review's words see all T."""
    return (sequence_length + 1) / 2 if config.task != "classify" else float(sequence_length)


def flops_per_token(config: ModelConfig, vocabulary_size: int, sequence_length: int = 0) -> int:
    """Forward multiply-adds x 2 per input token (embedding lookups are free; output layer per step for generate).

    A Transformer layer, per token: its four attention projections (4 units²) and the MLP (2 × 4 units²), then
    attention itself over the positions it sees (`attended_positions`): a score q·k and a share of v each, 2 units
    per position. So 2 × (12 units² + 2 × attended × units) FLOPs per layer, as nanoGPT's estimate (6N + 12 L T d
    per token for forward and backward); norms, softmax and biases left out."""
    if config.cell == "transformer":
        units = config.units
        macs = config.num_layers * (12 * units * units + 2 * attended_positions(config, sequence_length) * units)
        input_dim = units
    else:
        gates, input_dim, macs = GATES[config.cell], input_width(config), 0
        for _ in range(config.num_layers):
            macs += directions(config) * gates * (input_dim * config.units + config.units * config.units)
            input_dim = directions(config) * config.units
    if config.task in ("generate", "forecast"):  # the output layer at every position
        macs += input_dim * vocabulary_size
    elif config.pooling == "attention":  # each word's score v · tanh(W h + b)
        macs += (input_dim + 1) * attention_units(config)
    return int(2 * macs)
