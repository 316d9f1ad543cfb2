"""Start a training run: the one path the CLI `train` command and the app's Train button share.

A run's worker process reads its corpus by name or path, so corpora that arrive as bytes (an upload,
pasted text) are first stored under the runs root, in the workspace's upload folder, named by their content
hash: a user's file name never becomes a path. Who starts the run (a `Viewer`) decides its owner and its
limits: a browser's run counts against its workspace's share of the queue and trains for at most the
operator's time cap; the CLI (the operator) has neither limit.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from seqlab import settings
from seqlab.config import ModelConfig, TrainConfig
from seqlab.corpus.decoding import MAX_CORPUS_BYTES, check_size
from seqlab.corpus.registry import BUILTIN_CORPORA, Corpus, load_corpus
from seqlab.corpus.statistics import check_trainable
from seqlab.errors import SeqlabError
from seqlab.runs import jobs, names, run_folder, workspaces
from seqlab.runs.storage import write_bytes_atomic, write_json_atomic
from seqlab.runs.workspaces import OPERATOR, UPLOADS, Viewer  # noqa: F401  (UPLOADS: where callers look)

UPLOAD_SUFFIXES = (".txt", ".csv", ".tsv")


def store_corpus_bytes(data: bytes, suffix: str, root: Path | None = None, viewer: Viewer = OPERATOR) -> Path:
    """Keep an uploaded or pasted corpus where worker processes can read it, in the viewer's upload folder;
    returns its path."""
    suffix = suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise SeqlabError(f"Files ending in '{suffix or '(nothing)'}' cannot be used as a corpus",
                          "a .txt file (text generation) or a .csv/.tsv file (reviews)",
                          "save the file as .txt, .csv or .tsv")
    check_size(len(data), "the upload")
    folder = workspaces.upload_folder(run_folder.runs_root(root), viewer.workspace)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:32]}{suffix}"
    if not path.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(path, data)
        except OSError as error:
            fix = f"free some disk space or set {settings.RUNS_VARIABLE} to a folder you can write"
            raise SeqlabError(f"Cannot store the corpus in {folder} ({error.strerror})", "a writable runs folder",
                              fix) from None
    return path


def resolve_corpus(corpus: str, viewer: Viewer = OPERATOR, root: Path | None = None) -> str:
    """A built-in name stays a name; a URL becomes its stored content; anything else must be an existing file or
    folder, kept as an absolute path — for a browser, only a file in its own upload folder."""
    if corpus in BUILTIN_CORPORA:
        return corpus
    if "://" in corpus:  # a URL is fetched once (size-capped, public addresses only) and stored like an upload
        from seqlab.corpus.download import fetch_url

        suffix = Path(urlsplit(corpus).path).suffix.lower() or ".txt"
        return str(store_corpus_bytes(fetch_url(corpus, max_bytes=MAX_CORPUS_BYTES), suffix, root, viewer))
    if not viewer.is_operator and not workspaces.owns_upload(viewer, corpus, run_folder.runs_root(root)):
        raise SeqlabError("That corpus is not one of yours", "a built-in corpus, a web address or your own upload",
                          "pick or upload the corpus again on the Data page")
    path = Path(corpus).expanduser()
    if not path.exists():
        raise SeqlabError(f"'{corpus}' is neither a built-in corpus nor an existing file",
                          f"one of {', '.join(BUILTIN_CORPORA)} or a path",
                          "run `python -m seqlab corpora` for the names")
    return str(path.resolve())


def check_corpus_fits(model_config: ModelConfig, train_config: TrainConfig, corpus: Corpus | None = None) -> None:
    """Refuse a wrong-task or too-short corpus, or a run that would not fit in memory, now, with a message, rather
    than as a failed run later. `corpus`: the corpus as the caller already read it (the Train page has), so that it
    is not read once more."""
    from seqlab.model.memory import check_memory_fits

    name = train_config.corpus
    if model_config.task == "forecast":
        check_series_fits(model_config, train_config, corpus)
        return
    if name in BUILTIN_CORPORA:
        info = BUILTIN_CORPORA[name]
        if info.task != model_config.task:
            raise SeqlabError(f"'{name}' is a {info.task} corpus, but the run is a {model_config.task} run",
                              f"a {model_config.task} corpus", f"pick a {model_config.task} corpus, or switch the "
                              f"task to '{info.task}'")
    else:
        if corpus is None:
            corpus = load_corpus(name, text_column=train_config.text_column or None,
                                 label_column=train_config.label_column or None,
                                 star_threshold=train_config.star_threshold)
        check_trainable(corpus, model_config.task, train_config.sequence_length)
    if model_config.task == "classify":
        vocabulary_size = model_config.vocabulary_size  # the vectorizer's most words (fewer if the corpus has fewer)
    else:  # the model's outputs: the corpus's distinct characters (a built-in text loads in ~20 ms)
        vocabulary_size = len(set((corpus if corpus is not None else load_corpus(name)).text))
    check_memory_fits(model_config, train_config, vocabulary_size)


def check_series_fits(model_config: ModelConfig, train_config: TrainConfig, corpus: Corpus | None = None) -> None:
    """A forecast run's series: a series (not a text or reviews), with its column of numbers, long enough for the
    windows, the horizon, validation and the tail; read now (a small file), so a bad one never becomes a run."""
    from seqlab.corpus.series import load_series, season_of
    from seqlab.encoding.windows import check_series_fits as check_length
    from seqlab.model.memory import check_memory_fits

    name = train_config.corpus
    info = BUILTIN_CORPORA.get(name)
    if info is not None and info.task != "forecast":
        raise SeqlabError(f"'{name}' is a {info.task} corpus, but the run is a forecast run",
                          "a series of numbers (sunspots, seasonal-synthetic, or a column of your .csv)",
                          f"pick a series, or switch the task to '{info.task}'")
    series = corpus.series if corpus is not None and corpus.series is not None else None
    series = series or load_series(name, train_config.value_column)
    check_length(series.name, len(series.values), train_config.sequence_length, train_config.horizon,
                 season_of(series, train_config.season_length))
    check_memory_fits(model_config, train_config, train_config.horizon)  # its outputs: the horizon


def app_time_budget(train_config: TrainConfig) -> TrainConfig:
    """A browser's run trains for at most the operator's cap (settings.max_app_run_seconds; 0: no cap)."""
    cap = settings.max_app_run_seconds()
    if cap and not 0 < train_config.time_budget_seconds <= cap:
        return replace(train_config, time_budget_seconds=float(cap))
    return train_config


def start_training(model_config: ModelConfig, train_config: TrainConfig, root: Path | None = None,
                   run_dir: Path | None = None, corpus: Corpus | None = None, viewer: Viewer = OPERATOR,
                   experiment: dict | None = None) -> Path:
    """Create the run folder, owned by the viewer's workspace, and hand it to the job runner (it starts now, or
    queues). Returns the folder. `corpus`: the corpus the caller read from `train_config.corpus` and its columns,
    if it has it already. `experiment`: the record marking the run as part of a lesson experiment (a race, a probe),
    written before the run is queued, so that the experiment takes one place in the workspace's share."""
    root = run_folder.runs_root(root)
    train_config = replace(train_config, corpus=resolve_corpus(train_config.corpus, viewer, root))
    if viewer.from_browser:
        train_config = app_time_budget(train_config)
    check_corpus_fits(model_config, train_config, corpus)
    run_dir = (Path(run_dir).expanduser().resolve() if run_dir
               else root / run_folder.new_run_id(model_config, train_config))
    with jobs.scheduler_lock(root):  # check the workspace's share and create the run as one step
        workspaces.check_room(viewer, root, experiment["id"] if experiment else None)
        run_folder.create_run_folder(run_dir, model_config, train_config)
        if experiment is not None:
            write_json_atomic(run_dir / run_folder.EXPERIMENT, experiment)
        workspaces.write_owner(run_dir, viewer.workspace)
        siblings = [path for path in root.iterdir() if path.is_dir() and workspaces.owner_of(path) == viewer.workspace]
        names.name_new_run(run_dir, model_config.cell, train_config.corpus, siblings)
    jobs.submit(run_dir, root)
    return run_dir
