"""The Runs page's "Download the model (zip)": the run's model rebuilt from Keras' own layers, with its model card.

Built only when someone clicks (st.download_button runs the callable then, on another thread), and once per model
file: the zip is cached by the run's path and the checksum seqlab recorded for its model.keras, so a second click,
or a second browser, gets the same bytes without a second export, and a retrained model gets a fresh one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from seqlab.ui.loaded_runs import inference_on_cpu, model_checksum


@st.cache_data(max_entries=4, ttl=3600, show_spinner=False)
def _model_zip(run_path: str, checksum: str) -> bytes:
    from seqlab.infer.export import export_zip

    inference_on_cpu()
    return export_zip(Path(run_path))


def model_zip(run_dir: Path) -> Callable[[], bytes]:
    """The download button's data: a callable that returns the zip (seqlab/infer/export.py), built on first use."""
    return lambda: _model_zip(str(Path(run_dir)), model_checksum(run_dir))
