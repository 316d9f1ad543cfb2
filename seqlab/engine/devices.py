"""Which devices a process computes on: a training worker shares its GPU, the Streamlit server uses none.

TensorFlow maps nearly all of a GPU's memory into the first process that initialises it, so two runs on one GPU,
or a run and the app loading a model for Generate or Score, would fail with out-of-memory although each alone
fits. So a worker turns on memory growth (it takes what it uses, as it needs it; seqlab/runs/worker.py), and the
server hides the GPUs before it loads its first model (seqlab/ui/loaded_runs.py): it samples and scores on the
CPU (the NumPy sampler, a batch of reviews), leaving GPU memory to the runs.

Both must happen before TensorFlow initialises its devices (its first op, or list_logical_devices); afterwards it
refuses, and these functions say so by returning what they could do rather than failing.
"""

from __future__ import annotations


def enable_memory_growth() -> int:
    """Memory growth on every GPU of this process (a worker calls it before anything allocates); the number of GPUs
    it was turned on for: 0 without a GPU, or when TensorFlow had already initialised them."""
    import tensorflow as tf

    grown = 0
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
            grown += 1
        except (RuntimeError, ValueError):  # already initialised: too late to change, training still works
            pass
    return grown


def hide_gpus() -> bool:
    """Make this process compute on the CPU only (the Streamlit server, before it loads a model): True if there
    were GPUs and they are hidden now (or were already); False without a GPU, or when it is too late."""
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        return False
    try:
        tf.config.set_visible_devices([], "GPU")
    except RuntimeError:  # TensorFlow initialised the GPUs already in this process (and a change is refused)
        return not tf.config.get_visible_devices("GPU")
    return True
