"""Load a trained run: config, vocabulary and the best model — only files seqlab itself wrote.

The model file's sha256 must match the one the trainer recorded in
checksums.json, so a file dropped into a run folder is never deserialized.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seqlab import runs
from seqlab.config import ModelConfig, TrainConfig


@dataclass
class LoadedRun:
    path: Path
    model_config: ModelConfig
    train_config: TrainConfig
    model: object  # keras.Model: ids -> logits (generate) or strings -> P(positive) (classify)
    vocabulary: object | None  # CharVocabulary for generate runs
    status: dict


def load_run(run_dir: Path) -> LoadedRun:
    import keras

    from seqlab.models import SeqlabModel
    from seqlab.text import CharVocabulary

    run_dir = Path(run_dir)
    model_config, train_config = runs.read_configs(run_dir)
    path = runs.verify_checksum(run_dir, runs.BEST_MODEL)
    model = keras.saving.load_model(path, compile=False, safe_mode=True, custom_objects={"SeqlabModel": SeqlabModel})
    vocabulary = CharVocabulary.load(run_dir / runs.VOCABULARY) if model_config.task == "generate" else None
    return LoadedRun(run_dir, model_config, train_config, model, vocabulary, runs.read_status(run_dir))
