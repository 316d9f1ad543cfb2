"""Stanford's Large Movie Review Dataset (aclImdb): one reader for the archive and the folder.

The layout is `aclImdb/{train,test}/{pos,neg}/<id>_<stars>.txt`. The same
reader serves the copy in ../shared/data, a user's download of Stanford's
84 MB archive (which also holds `unsup/` and bag-of-words files we skip), and
an unpacked folder.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from seqlab.errors import SeqlabError

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
ARCHIVE_NAME = "aclImdb_v1.tar.gz"
_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")
_BREAK_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)
_SPACES = re.compile(r"\s+")  # every Unicode space, incl. \x85 and \u2028 (see clean_review)

Split = tuple[list[str], np.ndarray]  # (texts, labels 0/1)


def clean_review(text: str) -> str:
    """One line of plain text per review.

    IMDb reviews carry HTML line breaks (`<br /><br />`) a model should not
    learn. Unicode line separators (\x85, \u2028) would survive TensorFlow's
    ASCII whitespace split inside a token, and the saved vectorizer's
    vocabulary file would then read back as repeated terms: so every kind of
    whitespace becomes one space.
    """
    return _SPACES.sub(" ", _BREAK_TAG.sub(" ", text)).strip()


def is_stanford_layout(path: Path) -> bool:
    """True for a .tar.gz archive or a folder that may hold aclImdb reviews."""
    path = Path(path)
    return path.name.endswith((".tar.gz", ".tgz")) or (path.is_dir() and (path / "train").is_dir()
                                                       or (path / "aclImdb").is_dir())


def read_stanford_reviews(path: Path) -> dict[str, Split]:
    """Read every labelled review into {"train": (texts, labels), "test": (...)}, in a fixed order."""
    path = Path(path)
    found: list[tuple[str, int, int, str]] = []  # (split, label, review id, text)
    if path.is_dir():
        root = path if path.name == "aclImdb" else path / "aclImdb" if (path / "aclImdb").is_dir() else path
        for file in root.glob("*/*/*.txt"):
            match = _MEMBER.search("aclImdb/" + file.relative_to(root).as_posix())
            if match:
                found.append(_entry(match, file.read_bytes()))
    else:
        try:
            with tarfile.open(path, mode="r|gz") as archive:  # streaming: one pass, no random access
                for member in archive:
                    match = _MEMBER.search(member.name)
                    if match and member.isfile():
                        found.append(_entry(match, archive.extractfile(member).read()))
        except (tarfile.TarError, OSError, EOFError) as error:
            raise SeqlabError(
                f"Could not read {path} as a .tar.gz archive ({error})",
                "Stanford's aclImdb_v1.tar.gz, complete and unchanged",
                "download the archive again, or unpack it and give the folder",
            ) from None
    splits = {}
    for split in ("train", "test"):
        rows = sorted((label, review_id, text) for s, label, review_id, text in found if s == split)
        if rows:
            splits[split] = ([text for _, _, text in rows], np.array([r[0] for r in rows], dtype=np.int32))
    if "train" not in splits:
        raise SeqlabError(
            f"No reviews in Stanford's layout were found in {path}",
            "files named aclImdb/train/pos/<id>_<stars>.txt and aclImdb/train/neg/…",
            "give Stanford's aclImdb_v1.tar.gz or the aclImdb folder unpacked from it",
        )
    return splits


def _entry(match: re.Match, raw: bytes) -> tuple[str, int, int, str]:
    split, polarity, review_id, _stars = match.groups()
    return split, int(polarity == "pos"), int(review_id), clean_review(raw.decode("utf-8", errors="replace"))


def imdb_archive(allow_download: bool, progress: Callable[[int, int | None], None] | None = None,
                 url: str = IMDB_URL, allow_private_addresses: bool = False) -> Path:
    """The cached Stanford archive, downloaded first if allowed (streamed, atomic, reused next time)."""
    from seqlab.corpus.download import cache_dir, download_file

    destination = cache_dir() / ARCHIVE_NAME
    if destination.exists():
        return destination
    if not allow_download:
        raise SeqlabError(
            "The full IMDb dataset (imdb-full) has not been downloaded yet",
            f"the archive at {destination}",
            "run `python -m seqlab download imdb-full` (84 MB from Stanford), "
            "or give the path of aclImdb_v1.tar.gz if you already have it",
        )
    return download_file(url, destination, timeout=60, progress=progress,
                         allow_private_addresses=allow_private_addresses)
