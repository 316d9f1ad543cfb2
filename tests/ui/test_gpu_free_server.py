"""The Streamlit server never takes GPU memory: every model it loads (Generate, Score, an evaluation, the model
zip) is loaded after the GPUs were hidden from its process (seqlab/engine/devices.py), faked here."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqlab.engine import devices
from seqlab.errors import SeqlabError
from seqlab.infer import evaluation, export, loading
from seqlab.ui import evaluate_view, loaded_runs, model_download


@pytest.mark.parametrize("loader,module,name", [
    (lambda key: loaded_runs._load_sampler(key, "c"), loading, "load_run"),
    (lambda key: loaded_runs._load_scorer(key, "c"), loading, "load_run"),  # the scorer is built on load_run
    (lambda key: model_download._model_zip(key, "c"), export, "export_zip"),
    (lambda key: evaluate_view._evaluate(key, "c", "imdb", "test", 10), evaluation, "evaluate_run"),
], ids=["generate", "score", "model zip", "evaluate"])
def test_the_server_hides_the_gpus_before_it_loads_a_model(loader, module, name, monkeypatch, tmp_path):
    events = []
    monkeypatch.setattr(devices, "hide_gpus", lambda: events.append("GPUs hidden") or True)

    def load(*args, **kwargs):
        events.append("model loaded")
        raise SeqlabError("stop here", None, None)  # an error is not cached: the next test loads afresh

    monkeypatch.setattr(module, name, load)
    with pytest.raises(SeqlabError, match="stop here"):
        loader(str(Path(tmp_path) / "run"))
    assert events == ["GPUs hidden", "model loaded"]
