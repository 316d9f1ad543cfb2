"""Stanford's Large Movie Review Dataset (aclImdb): one reader for the archive and the folder.

The layout is `aclImdb/{train,test}/{pos,neg}/<id>_<stars>.txt`. The same
reader serves the copy in ../shared/data, a user's download of Stanford's
84 MB archive (which also holds `unsup/` and bag-of-words files we skip), and
an unpacked folder.
"""

from __future__ import annotations

import os
import re
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from seqlab.errors import SeqlabError

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
ARCHIVE_NAME = "aclImdb_v1.tar.gz"
MAX_MEMBERS = 250_000  # files looked at in an archive or folder
MAX_REVIEW_BYTES = 1_000_000  # one review
MAX_TOTAL_BYTES = 500_000_000  # all reviews read
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
    budget = _Budget(str(path))
    if path.is_dir():
        root = path if path.name == "aclImdb" else path / "aclImdb" if (path / "aclImdb").is_dir() else path
        for split, polarity in ((s, p) for s in ("train", "test") for p in ("pos", "neg")):
            folder = root / split / polarity
            if folder.is_symlink() or not folder.is_dir():  # links are not followed out of the folder
                continue
            for entry in os.scandir(folder):
                budget.count(entry.stat(follow_symlinks=False).st_size)
                match = _MEMBER.search(f"aclImdb/{split}/{polarity}/{entry.name}")
                if match and entry.is_file(follow_symlinks=False):
                    found.append(_entry(match, Path(entry.path).read_bytes()))
    else:
        try:
            with tarfile.open(path, mode="r|gz") as archive:  # streaming: one pass, no random access
                for member in archive:
                    match = _MEMBER.search(member.name)
                    if match and member.isfile():  # links and devices are never read
                        budget.count(member.size)
                        found.append(_entry(match, archive.extractfile(member).read()))
                    else:
                        budget.count(0)
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


def count_stanford_reviews(path: Path) -> dict[str, int]:
    """Check that a .tar.gz is Stanford's archive by reading it through once, without keeping any review:
    {"train": n, "test": n} labelled reviews. Only regular files are counted (links are never followed), with
    the same bounds as the reader; both splits are required, as imdb-full promises a test set."""
    counts = {"train": 0, "test": 0}
    budget = _Budget(Path(path).name)
    try:
        with tarfile.open(path, mode="r|gz") as archive:  # every byte is decompressed: a cut file fails its CRC
            for member in archive:
                match = _MEMBER.search(member.name)
                budget.count(member.size if match and member.isfile() else 0)
                if match and member.isfile():
                    counts[match.group(1)] += 1
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise SeqlabError(f"{Path(path).name} is not a readable .tar.gz archive ({error})",
                          "Stanford's aclImdb_v1.tar.gz, complete and unchanged",
                          "download the archive again") from None
    if not counts["train"] or not counts["test"]:
        raise SeqlabError(f"{Path(path).name} holds {counts['train']:,} training and {counts['test']:,} test "
                          "reviews in Stanford's layout", "both aclImdb/train/{pos,neg}/ and aclImdb/test/{pos,neg}/",
                          "give Stanford's aclImdb_v1.tar.gz (or the reviews-only copy of it)")
    return counts


class _Budget:
    """Bounds on what an archive or folder may make seqlab read: members looked at, one review's size, the total
    (Stanford's holds ~100,000 files, 50,000 labelled reviews of at most ~14 KB, ~65 MB of them)."""

    def __init__(self, source: str):
        self.source, self.members, self.total = source, 0, 0

    def count(self, size: int) -> None:
        self.members, self.total = self.members + 1, self.total + size
        if self.members > MAX_MEMBERS:
            self._refuse(f"more than {MAX_MEMBERS:,} files", f"at most {MAX_MEMBERS:,} files")
        if size > MAX_REVIEW_BYTES:
            self._refuse(f"a review of {size:,} bytes", f"reviews of at most {MAX_REVIEW_BYTES:,} bytes")
        if self.total > MAX_TOTAL_BYTES:
            self._refuse(f"more than {MAX_TOTAL_BYTES:,} bytes of reviews", f"at most {MAX_TOTAL_BYTES:,} bytes")

    def _refuse(self, found: str, expected: str) -> None:
        raise SeqlabError(f"{self.source} holds {found}", f"Stanford's aclImdb layout with {expected}",
                          "give Stanford's aclImdb_v1.tar.gz, or a folder with only its reviews")


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
            "download it on the Data page, or run `python -m seqlab download imdb-full` (84 MB from Stanford), "
            "or give the path of aclImdb_v1.tar.gz if you already have it",
        )
    from seqlab import settings

    if url == IMDB_URL and settings.imdb_mirror():  # the operator's own copy, as the app's download uses
        url, allow_private_addresses = settings.imdb_mirror(), True
    return download_file(url, destination, timeout=60, progress=progress,
                         allow_private_addresses=allow_private_addresses)
