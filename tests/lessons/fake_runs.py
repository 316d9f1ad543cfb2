"""Hand-made run folders for the lessons' tests (not a test module): finished runs with the figures given."""

from __future__ import annotations

from pathlib import Path

from seqlab.lessons import experiment
from seqlab.presets import default_configs
from seqlab.runs import run_folder
from seqlab.runs.storage import write_json_atomic


def fake_run(root: Path, name: str, cell: str, corpus: str = "hamlet", state: str = "finished", units: int = 64,
             record: dict | None = None, probe: dict | None = None, **status) -> Path:
    model, train = default_configs("generate", cell=cell, corpus=corpus, units=units)
    run_dir = run_folder.create_run_folder(root / name, model, train)
    run_folder.write_status(run_dir, state=state, **status)
    if record is not None:
        experiment.write_experiment(run_dir, {"cell": cell, **record})
    if probe is not None:
        write_json_atomic(run_dir / "probe.json", probe)
    return run_dir
