"""GPU hygiene with a faked device list (no GPU needed): a worker turns on memory growth before anything allocates,
the server hides the GPUs, and on a GPU the layers seqlab builds take Keras' cuDNN kernels."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import tensorflow as tf

from seqlab.engine import choice, cpu, devices
from seqlab.model.builder import RECURRENT_LAYERS, build_model
from seqlab.presets import default_configs
from seqlab.runs import run_folder, worker

keras_rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")  # where Keras decides on cuDNN
FAKE_GPUS = [tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU"),
             tf.config.PhysicalDevice("/physical_device:GPU:1", "GPU")]


@pytest.fixture
def physical_gpus(monkeypatch):
    """tf.config.list_physical_devices lists two GPUs (and the real CPU)."""
    real = tf.config.list_physical_devices
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: FAKE_GPUS if kind == "GPU" else real(kind))


@pytest.fixture
def logical_gpu(monkeypatch):
    """TensorFlow (and Keras' cuDNN check) see a GPU: tf.config.list_logical_devices("GPU") names one."""
    real = tf.config.list_logical_devices
    gpu = tf.config.LogicalDevice("/device:GPU:0", "GPU")
    monkeypatch.setattr(tf.config, "list_logical_devices", lambda kind=None: [gpu] if kind == "GPU" else real(kind))


def test_a_worker_turns_memory_growth_on_for_every_gpu(physical_gpus, monkeypatch):
    grown = []
    monkeypatch.setattr(tf.config.experimental, "set_memory_growth", lambda gpu, on: grown.append((gpu.name, on)))
    assert devices.enable_memory_growth() == 2
    assert grown == [(FAKE_GPUS[0].name, True), (FAKE_GPUS[1].name, True)]

    def too_late(gpu, on):
        raise RuntimeError("Physical devices cannot be modified after being initialized")
    monkeypatch.setattr(tf.config.experimental, "set_memory_growth", too_late)
    assert devices.enable_memory_growth() == 0  # said, not raised: the run trains anyway


def test_without_a_gpu_nothing_is_changed(monkeypatch):
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    monkeypatch.setattr(tf.config, "set_visible_devices", lambda *args: pytest.fail("nothing to hide"))
    assert devices.enable_memory_growth() == 0 and devices.hide_gpus() is False


def test_the_server_hides_the_gpus_before_tensorflow_initialises_them(physical_gpus, monkeypatch):
    hidden = []
    monkeypatch.setattr(tf.config, "set_visible_devices", lambda found, kind=None: hidden.append((found, kind)))
    assert devices.hide_gpus() is True and hidden == [([], "GPU")]

    def too_late(found, kind=None):
        raise RuntimeError("Visible devices cannot be modified after being initialized")
    monkeypatch.setattr(tf.config, "set_visible_devices", too_late)
    monkeypatch.setattr(tf.config, "get_visible_devices", lambda kind=None: FAKE_GPUS[:1])
    assert devices.hide_gpus() is False  # too late, and a GPU is in use: said, not raised


def test_the_worker_asks_for_memory_growth_before_anything_else(tmp_path, monkeypatch):
    order = []
    monkeypatch.setattr(worker.devices, "enable_memory_growth", lambda: order.append("memory growth"))
    monkeypatch.setattr(worker, "configure_threads", lambda: order.append("threads"))
    model, train = default_configs("generate", corpus=str(tmp_path / "missing.txt"))
    run_dir = run_folder.create_run_folder(tmp_path / "runs" / "r", model, train)
    assert worker.train_run(run_dir) == "failed"  # at the corpus: after both
    assert order == ["memory growth", "threads"]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_on_a_gpu_the_layers_seqlab_builds_run_keras_cudnn_kernels(cell, logical_gpu, monkeypatch):
    """The choice gives Keras' loop, the layers keep every argument cuDNN needs, and a forward pass reaches
    Keras' cuDNN kernel (recorded here, then refused so that Keras falls back on this GPU-less machine)."""
    called = []

    def cudnn_kernel(*args, **kwargs):
        called.append(cell)
        raise NotImplementedError  # Keras' own answer where the op is missing: its loop takes over

    monkeypatch.setattr(keras_rnn, f"_cudnn_{cell}", cudnn_kernel)
    assert choice.choose_engine(cell, tf.float32, 64) == choice.Engine.KERAS
    assert not choice.compile_with_xla("generate")  # cuDNN kernels do not compile with XLA
    assert cpu.resolved_precision("auto") == "float32"  # cuDNN's float32 path, not bfloat16
    model_config, _ = default_configs("generate", cell=cell, units=16, embedding_dim=8, num_layers=2)
    model = build_model(model_config, vocabulary_size=20)
    layers = [layer for layer in model.layers if isinstance(layer, RECURRENT_LAYERS[cell])]
    assert len(layers) == 2
    for layer in layers:
        cell_ = layer.cell
        assert layer.use_cudnn in ("auto", True) and not cell_.recurrent_dropout
        assert keras_rnn.cudnn_ok(cell_.activation, cell_.recurrent_activation, layer.unroll, cell_.use_bias,
                                  reset_after=getattr(cell_, "reset_after", None))
    model(np.zeros((2, 5), dtype="int32"), training=False)
    assert called == [cell, cell]

