"""The worker side of `bench training`: one process per framework and shape, speaking a line protocol on stdout.

seqlab's model and train step, or the seeds' plain Keras, warmed up, then timed one `fit` batch at a time when the
parent (bench/training.py) asks; the PyTorch worker (torch_reference.py) speaks the same protocol.
"""

from __future__ import annotations

import json
import os
import sys
import time

from bench.training import DATA_SEED, MARKER, VOCABULARY_SIZE, Method, Shape, make_batches
from seqlab import settings


def announce(payload: dict) -> None:
    print(MARKER + json.dumps(payload), flush=True)


def serve(step, info: dict, warmup_steps: int) -> None:
    """Warm up, say ready, then answer `measure N` with N step times until `quit` (or stdin closes)."""
    for _ in range(warmup_steps):
        step()
    announce({"ready": True, **info})
    for line in sys.stdin:
        words = line.split()
        if words[:1] == ["measure"]:
            times, cpu_times = [], []
            for _ in range(int(words[1])):
                started, cpu_started = time.perf_counter(), time.process_time()
                step()
                times.append(time.perf_counter() - started)
                cpu_times.append(time.process_time() - cpu_started)
            announce({"step_seconds": times, "cpu_seconds": cpu_times})
        elif words[:1] == ["quit"]:
            return


def plain_keras_model(shape: Shape):
    """The seeds' char-RNN: Sequential, softmax output, Adam with per-variable clipnorm (000's clipping variant)."""
    import keras

    layer_class = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simple_rnn": keras.layers.SimpleRNN}
    layers = [keras.Input(shape=(shape.sequence_length,)), keras.layers.Embedding(VOCABULARY_SIZE, shape.embedding_dim)]
    for _ in range(shape.num_layers):
        layers.append(layer_class[shape.cell](shape.units, return_sequences=True))
        if shape.dropout:
            layers.append(keras.layers.Dropout(shape.dropout))
    layers.append(keras.layers.Dense(VOCABULARY_SIZE, activation="softmax"))
    model = keras.Sequential(layers)
    clipping = {"norm": {"clipnorm": shape.clip_threshold}, "value": {"clipvalue": shape.clip_threshold}}
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=shape.learning_rate, **clipping.get(shape.clip, {})),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def keras_worker(framework: str, shape: Shape, method: Method) -> None:
    """seqlab's model and step, or the seeds' plain Keras, driven by `fit` one timed batch at a time."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ[settings.THREADS_VARIABLE] = str(method.threads)
    import tensorflow as tf

    if framework == "seqlab":  # a training job's own settings (seqlab.engine.cpu.configure_threads)
        from seqlab.engine.cpu import configure_threads

        configure_threads()
    else:
        tf.config.threading.set_intra_op_parallelism_threads(method.threads)
        tf.config.threading.set_inter_op_parallelism_threads(method.inter_op_threads)
    import keras

    if shape.precision == "bfloat16":
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    keras.utils.set_random_seed(DATA_SEED)
    if framework == "seqlab":
        from seqlab.config import ModelConfig, TrainConfig, validate_model_config
        from seqlab.model.builder import build_model, compile_model
        from seqlab.train.trainer import optimizer_for

        config = validate_model_config(ModelConfig(
            task="generate", cell=shape.cell, num_layers=shape.num_layers, units=shape.units,
            embedding_dim=shape.embedding_dim, dropout=shape.dropout))
        model = build_model(config, VOCABULARY_SIZE)
        compile_model(model, "generate", optimizer_for(TrainConfig(learning_rate=shape.learning_rate, clip=shape.clip,
                                                                   clip_threshold=shape.clip_threshold)))
        from seqlab.engine import native_kernels
        from seqlab.engine.choice import Engine, choose_engine

        kernels = {"lstm_step_kernels": native_kernels.recurrent_step_ops() is not None,  # all cells, despite the name
                   "lstm_step_kernels_why_not": native_kernels.why_not(),
                   "sequence_kernels": choose_engine(
                       shape.cell, tf.as_dtype(keras.mixed_precision.global_policy().compute_dtype),
                       shape.units) == Engine.SEQUENCE_OPS}
    else:
        kernels = {}
        model = plain_keras_model(shape)
    inputs, targets = make_batches(shape)
    iterator = iter(tf.data.Dataset.from_tensor_slices((inputs, targets)).repeat().prefetch(2))

    def step() -> None:  # what fit does per batch (Keras 3 TF trainer), synchronised on the loss
        float(model.train_function(iterator)["loss"])

    model.fit(inputs[0], targets[0], epochs=1, verbose=0, batch_size=shape.batch_size)  # builds train_function
    serve(step, {"parameters": int(model.count_params()), "tensorflow": tf.__version__, "keras": keras.__version__,
                 "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
                 "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
                 "jit_compile": bool(model.jit_compile), "dtype_policy": keras.mixed_precision.global_policy().name,
                 **kernels},
          method.warmup_steps)


def worker_main(argv: list[str]) -> None:
    spec = json.loads(argv[1])
    keras_worker(spec["framework"], Shape(**spec["shape"]), Method(**spec["method"]))


if __name__ == "__main__":  # started by training.Worker: python -m bench.training_worker --worker SPEC
    worker_main(sys.argv[1:])
