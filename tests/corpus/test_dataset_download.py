"""imdb-full from the app: the background download (progress, one per server, cancel, cache reused, checked before
it is trusted) against a loopback HTTP server, and an uploaded archive accepted or refused."""

from __future__ import annotations

import base64
import io
import os
import tarfile
import time

import pytest

from seqlab.corpus import dataset_download as dd
from seqlab.corpus.registry import load_corpus
from seqlab.errors import SeqlabError
from tests.local_server import QuietHandler, serving

PIECE = 32 * 1024


def stanford_archive(reviews_per_class: int = 2, review_bytes: int = 60_000, splits=("train", "test"),
                     link: bool = False) -> bytes:
    """A small archive in Stanford's layout; random text so that it stays a few hundred KB once compressed."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for split in splits:
            for polarity, stars in (("pos", 9), ("neg", 2)):
                for i in range(reviews_per_class):
                    data = base64.b64encode(os.urandom(review_bytes * 3 // 4))
                    info = tarfile.TarInfo(f"aclImdb/{split}/{polarity}/{i}_{stars}.txt")
                    info.size = len(data)
                    archive.addfile(info, io.BytesIO(data))
        if link:  # a link named like a review: must never be followed
            info = tarfile.TarInfo("aclImdb/train/pos/99_9.txt")
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            archive.addfile(info)
    return buffer.getvalue()


ARCHIVE = stanford_archive()


class Handler(QuietHandler):
    """/fast: the archive at once; /slow: in 32 KB pieces with pauses; /page: a web page instead of an archive."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.server.hits[self.path] += 1
        try:
            if self.path == "/page":
                self.reply(200, b"<html>please log in to the wifi</html>" * 100)
                return
            pause = {"/fast": 0.0, "/slow": 0.05, "/very-slow": 0.3}[self.path]
            self.send_response(200)
            self.send_header("Content-Length", str(len(ARCHIVE)))
            self.end_headers()
            for start in range(0, len(ARCHIVE), PIECE):
                self.wfile.write(ARCHIVE[start:start + PIECE])
                self.wfile.flush()
                time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):  # the client cancelled
            pass


@pytest.fixture
def server():
    with serving(Handler) as running:
        yield running


def leftovers() -> list[str]:
    return sorted(path.name for path in dd.archive_path().parent.iterdir() if path.name.startswith("."))


def test_progress_is_shared_and_the_cached_archive_is_reused(server):
    assert not dd.is_available() and dd.download_state().phase == "idle"
    first = dd.start_download(server.url + "/slow", allow_private_addresses=True)
    second = dd.start_download(server.url + "/slow", allow_private_addresses=True)  # another browser: joins
    assert first.phase == second.phase == "downloading"
    seen = []
    while (state := dd.download_state()).running:
        seen.append(state.fraction)
        time.sleep(0.02)
    assert state.phase == "done" and "4 training and 4 test" in state.message
    fractions = [fraction for fraction in seen if fraction is not None]
    assert fractions and 0 < min(fractions) < 1 and fractions == sorted(fractions)
    assert dd.archive_path().read_bytes() == ARCHIVE and server.hits == {"/slow": 1}
    again = dd.start_download(server.url + "/slow", allow_private_addresses=True)
    assert again.phase == "done" and "nothing was downloaded" in again.message and server.hits == {"/slow": 1}
    assert len(load_corpus("imdb-full").test_texts) == 4  # the Train and Score pages' name now resolves
    assert leftovers() == []


def test_cancel_stops_the_download_and_keeps_nothing(server):
    dd.start_download(server.url + "/very-slow", allow_private_addresses=True)
    deadline = time.monotonic() + 10
    while dd.download_state().done == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert dd.cancel_download()
    assert dd.download_state().cancelling
    state = dd.wait(timeout=10)
    assert state.phase == "cancelled" and "nothing was kept" in state.message
    assert not dd.is_available() and leftovers() == []
    assert not dd.cancel_download()  # nothing runs any more


def test_a_web_page_is_not_cached_as_the_archive(server):
    dd.start_download(server.url + "/page", allow_private_addresses=True)
    state = dd.wait(timeout=10)
    assert state.phase == "failed" and "not a .tar.gz archive" in state.message
    assert not dd.is_available() and leftovers() == []


def test_private_addresses_are_refused_by_default(server):
    dd.start_download(server.url + "/fast")
    state = dd.wait(timeout=10)
    assert state.phase == "failed" and not dd.is_available()


def test_an_uploaded_archive_is_checked_and_stored_under_the_fixed_name():
    path, counts = dd.store_archive(ARCHIVE, "../../aclImdb_v1.tar.gz")
    assert path == dd.archive_path() and counts == {"train": 4, "test": 4}
    assert path.read_bytes() == ARCHIVE and leftovers() == []
    assert dd.download_state().phase == "done"


@pytest.mark.parametrize("data,name,message", [
    (ARCHIVE, "reviews.zip", "not a .tar.gz archive"),
    (b"", "aclImdb_v1.tar.gz", "0 bytes"),
    (b"PK\x03\x04 not gzip", "aclImdb_v1.tar.gz", "not gzip-compressed"),
    (ARCHIVE[: len(ARCHIVE) // 2], "aclImdb_v1.tar.gz", "not a readable .tar.gz"),
    (stanford_archive(splits=("train",)), "aclImdb_v1.tar.gz", "0 test reviews"),
    (stanford_archive(reviews_per_class=0, link=True), "aclImdb_v1.tar.gz", "0 training"),
])
def test_a_bad_upload_is_refused_with_a_reason(data, name, message):
    with pytest.raises(SeqlabError, match=message):
        dd.store_archive(data, name)
    assert not dd.is_available() and leftovers() == []


def test_an_upload_over_the_cap_is_refused_before_it_is_written(monkeypatch):
    monkeypatch.setattr(dd, "MAX_UPLOAD_BYTES", 1000)
    with pytest.raises(SeqlabError, match="download Stanford's 84 MB archive instead"):
        dd.store_archive(ARCHIVE, "aclImdb_v1.tar.gz")
    assert not dd.is_available()


def test_links_in_an_archive_are_never_counted_or_followed():
    _, counts = dd.store_archive(stanford_archive(link=True), "aclImdb_v1.tar.gz")
    assert counts == {"train": 4, "test": 4}  # the link named like a review is skipped


def test_cli_download_takes_a_local_archive(tmp_path, capsys):
    from seqlab.cli.main import main

    archive = tmp_path / "aclImdb_v1.tar.gz"
    archive.write_bytes(ARCHIVE)
    assert main(["download", "imdb-full", "--archive", str(archive)]) == 0
    assert dd.is_available() and "4 training and 4 test reviews" in capsys.readouterr().err
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["download", "imdb-full", "--archive", str(tmp_path / "notes.txt")]) == 2
    assert "not Stanford's archive" in capsys.readouterr().err


def test_an_operators_mirror_is_used_by_the_app_and_the_cli(server, monkeypatch):
    from seqlab.corpus.imdb import imdb_archive

    monkeypatch.setenv("SEQLAB_IMDB_URL", server.url + "/fast")  # on 127.0.0.1: allowed, the operator chose it
    assert dd.start_download().phase == "downloading" and dd.wait(timeout=10).phase == "done"
    dd.archive_path().unlink()
    assert imdb_archive(allow_download=True).read_bytes() == ARCHIVE
    assert server.hits == {"/fast": 2}
