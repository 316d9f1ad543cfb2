"""Security checks (issue 8): upload size caps, user file names never used as paths, run ids validated, only
seqlab's own model files in the runs root are deserialized, no raw HTML in the app, and URL fetches limited to
public http(s) addresses with a timeout and a size cap."""

from __future__ import annotations

import hashlib
import inspect
import re
import shutil
import socket
import threading
import time
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from seqlab.corpus import download, web_address
from seqlab.corpus.decoding import MAX_CORPUS_BYTES
from seqlab.corpus.registry import corpus_from_bytes, load_corpus
from seqlab.errors import SeqlabError
from seqlab.infer import loading
from seqlab.presets import default_configs
from seqlab.runs import admin, launch, run_folder
from tests.conftest import REPO

TEXT = ("To be, or not to be, that is the question.\n" * 40).encode()
HOSTILE_NAMES = ["../../etc/passwd.txt", "/etc/cron.d/evil.csv", "..\\..\\windows\\win.ini.txt", "~/.bashrc.tsv",
                 "a/../../../outside.txt"]


# --------------------------------------------------------------------------- uploads

def test_the_app_never_shows_a_traceback_to_a_browser():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"


def test_the_upload_cap_is_set_for_the_server_and_checked_again_in_code():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    megabytes = config["server"]["maxUploadSize"]
    assert megabytes * 1024 * 1024 == MAX_CORPUS_BYTES  # Streamlit's MB is 2**20 bytes
    too_big = b"a" * (MAX_CORPUS_BYTES + 1)
    with pytest.raises(SeqlabError, match="over the 50.0 MB limit"):
        launch.store_corpus_bytes(too_big, ".txt")
    with pytest.raises(SeqlabError, match="over the 50.0 MB limit"):
        corpus_from_bytes(too_big, "big.txt")
    assert not (run_folder.runs_root() / launch.UPLOADS).exists()  # refused before anything was written


def written_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_an_upload_is_stored_by_content_hash_whatever_its_name(name, tmp_path):
    root, suffix = run_folder.runs_root(), Path(name).suffix
    separator = {".csv": ",", ".tsv": "\t"}.get(suffix)
    data = TEXT if separator is None else "".join(f"{text}{separator}{label}\n" for text, label in (
        ("text", "label"), ("good", "pos"), ("bad", "neg"))).encode()
    stored = launch.store_corpus_bytes(data, suffix)
    assert stored.parent == root / launch.UPLOADS
    assert stored.name == hashlib.sha256(data).hexdigest()[:32] + suffix
    assert stored.read_bytes() == data
    assert corpus_from_bytes(data, name).name == Path(name).name  # the name is a label, never a path
    assert written_files(tmp_path) == [stored]  # nothing written anywhere else


@pytest.mark.parametrize("suffix", ["/../../x.txt", ".txt/..", ".sh", ".keras", ""])
def test_only_text_and_table_suffixes_are_stored(suffix):
    with pytest.raises(SeqlabError, match="cannot be used as a corpus"):
        launch.store_corpus_bytes(TEXT, suffix)
    assert not (run_folder.runs_root() / launch.UPLOADS).exists()


def test_the_data_page_stores_an_upload_named_like_a_path_under_the_runs_root(tmp_path):
    app = AppTest.from_file(str(REPO / "pages" / "data.py"), default_timeout=60).run()
    app.radio[0].set_value("Upload").run()
    app.file_uploader[0].set_value(("../../etc/passwd.txt", TEXT, "text/plain")).run()
    assert not app.exception and not app.error
    chosen = app.session_state["seqlab_corpus"]["corpus"]
    assert Path(chosen) == run_folder.runs_root() / launch.UPLOADS / f"{hashlib.sha256(TEXT).hexdigest()[:32]}.txt"
    assert written_files(tmp_path) == [Path(chosen)]


# --------------------------------------------------------------------------- run ids and model files

@pytest.mark.parametrize("run_id", ["../x", "..", ".hidden", "/etc", "a/b", "a\\b", "", "x" * 101, "run id", "ü"])
def test_bad_run_ids_are_refused_everywhere_a_run_is_named(run_id):
    with pytest.raises(SeqlabError, match="is not a valid run id"):
        run_folder.check_run_id(run_id)
    with pytest.raises(SeqlabError, match="is not a valid run id"):
        run_folder.run_in_root(run_id)
    with pytest.raises(SeqlabError, match="is not a valid run id"):
        admin.delete_run(run_id)


@pytest.mark.parametrize("run_id", ["20260101-000000-generate-lstm-7f3a", "a", "run_1.copy"])
def test_good_run_ids_pass(run_id):
    assert run_folder.check_run_id(run_id) == run_id


def fake_run(folder: Path) -> Path:
    """A run folder as the trainer leaves it, with stand-in model bytes and their recorded checksum."""
    run_dir = run_folder.create_run_folder(folder, *default_configs("generate"))
    (run_dir / run_folder.BEST_MODEL).write_bytes(b"stand-in for a keras archive")
    run_folder.record_checksum(run_dir, run_folder.BEST_MODEL)
    run_folder.write_status(run_dir, state="finished")
    return run_dir


def test_only_untampered_model_files_of_runs_in_the_root_are_loaded(tmp_path):
    root = run_folder.runs_root()
    inside = fake_run(root / "inside")
    assert loading.check_run_location(inside) == inside.resolve()  # the checks pass for seqlab's own run...
    assert run_folder.verify_checksum(inside, run_folder.BEST_MODEL) == inside / run_folder.BEST_MODEL
    outside = tmp_path / "elsewhere" / "copied"
    shutil.copytree(inside, outside)  # ...but a copy elsewhere carries matching checksums and is still refused
    with pytest.raises(SeqlabError, match="is not a run of the runs root"):
        loading.load_run(outside)
    with open(inside / run_folder.BEST_MODEL, "ab") as model:
        model.write(b"one more byte")
    with pytest.raises(SeqlabError, match="checksum does not match"):
        loading.load_run(inside)
    (inside / run_folder.CHECKSUMS).unlink()  # no record at all: refused too
    with pytest.raises(SeqlabError, match="checksum does not match"):
        loading.load_run(inside)


def test_a_run_linked_into_the_root_passes_the_location_check_and_a_folder_beside_it_does_not(tmp_path):
    root = run_folder.runs_root()
    linked = fake_run(tmp_path / "out" / "linked")
    (root / "linked").symlink_to(linked, target_is_directory=True)  # what `train --out` does
    assert loading.check_run_location(linked) == linked.resolve()
    beside = fake_run(tmp_path / "out" / "beside")
    with pytest.raises(SeqlabError, match="is not a run of the runs root"):
        loading.check_run_location(beside)


# --------------------------------------------------------------------------- no raw HTML

# The exceptions: the script that stores the workspace cookie, built from constants and a checked id; presenter
# mode's stylesheet, a constant holding one <style> element (tests/ui/test_presenter.py checks it).
RAW_HTML_ALLOWED = {"seqlab/ui/workspace.py": "st.html(script, unsafe_allow_javascript=True)",
                    "seqlab/ui/presenter.py": "st.html(LARGE_TYPE)"}


def test_no_page_and_no_module_renders_raw_html():
    sources = [REPO / "app.py", *sorted((REPO / "pages").rglob("*.py")), *sorted((REPO / "seqlab").rglob("*.py"))]
    assert len(sources) > 20
    forbidden = re.compile(r"unsafe_allow_html|st\.html\(|components\.v1|components\.html")
    offenders = [f"{path.relative_to(REPO)}:{number}" for path in sources
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                 if forbidden.search(line) and RAW_HTML_ALLOWED.get(str(path.relative_to(REPO))) != line.strip()]
    assert not offenders, offenders


def test_the_cookie_script_holds_nothing_a_browser_sent():
    """Its only variable part is the workspace id, and an id is 22-64 URL-safe characters or it is not used."""
    from seqlab.runs import workspaces
    from seqlab.ui import workspace

    script = workspace._REMEMBER.format(cookie=workspace.COOKIE, workspace="W" * 32, seconds=1)
    assert script.count("W" * 32) == 2 and "<script>" in script
    assert not workspaces.is_workspace_id('x"; alert(1); "' + "x" * 20)


# --------------------------------------------------------------------------- URL fetches

@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x.txt", "gopher://example.com/",
                                 "javascript:alert(1)", "data:text/plain,hello", "/etc/passwd.txt"])
def test_only_http_and_https_urls_are_fetched(url):
    with pytest.raises(SeqlabError, match="only http and https URLs are allowed"):
        download.fetch_url(url, max_bytes=1000)


@pytest.mark.parametrize("url, kind", [
    ("http://127.0.0.1:9/x.txt", "loopback"), ("http://localhost:9/x.txt", "loopback"),
    ("http://[::1]:9/x.txt", "loopback"), ("http://10.1.2.3/x.txt", "private"), ("http://192.168.0.1/x.txt", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"), ("http://0.0.0.0/x.txt", "unspecified"),
    ("http://[::ffff:127.0.0.1]/x.txt", "loopback"), ("http://100.64.0.1/x.txt", "non-public"),
])
def test_private_and_loopback_addresses_are_refused(url, kind):
    with pytest.raises(SeqlabError, match=f"a {kind} address"):
        download.fetch_url(url, max_bytes=1000)
    with pytest.raises(SeqlabError, match=f"a {kind} address"):  # the CLI's and the Train button's way in
        load_corpus(url)


def test_loopback_is_fetched_only_when_the_operator_allows_it(http_server):
    http_server.routes["/corpus.txt"] = TEXT
    url = http_server.url + "/corpus.txt"
    with pytest.raises(SeqlabError, match="a loopback address"):
        download.fetch_url(url, max_bytes=len(TEXT))
    assert http_server.hits == {}  # refused before any request
    assert download.fetch_url(url, max_bytes=len(TEXT), allow_private_addresses=True) == TEXT


def test_fetches_have_a_size_cap(http_server):
    http_server.routes["/corpus.txt"] = TEXT
    with pytest.raises(SeqlabError, match="Refused to download .* the limit is"):
        download.fetch_url(http_server.url + "/corpus.txt", max_bytes=len(TEXT) - 1, allow_private_addresses=True)
    assert "max_bytes" in inspect.signature(download.fetch_url).parameters
    assert inspect.signature(download.fetch_url).parameters["max_bytes"].default is inspect.Parameter.empty


class Stalling(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        time.sleep(2)

    def log_message(self, *args):
        pass


def test_fetches_have_a_timeout():
    assert 0 < download.DEFAULT_TIMEOUT_SECONDS <= 60
    for function in (download.fetch_url, download.download_file):
        assert inspect.signature(function).parameters["timeout"].default == download.DEFAULT_TIMEOUT_SECONDS
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stalling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        with pytest.raises(SeqlabError, match="did not respond within 0.3 seconds"):
            download.fetch_url(f"http://127.0.0.1:{server.server_address[1]}/x.txt", max_bytes=1000, timeout=0.3,
                               allow_private_addresses=True)
        assert time.monotonic() - started < 1.5
    finally:
        server.shutdown()
        server.server_close()


def test_the_loopback_guard_does_not_depend_on_name_resolution_tricks(monkeypatch):
    """A public-looking name that resolves to a private address is refused by its address, not its name."""
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *args, **kwargs: real("127.0.0.1", *args, **kwargs)
                        if host == "public.example.com" else real(host, *args, **kwargs))
    with pytest.raises(SeqlabError, match="resolves to 127.0.0.1, a loopback address"):
        download.fetch_url("http://public.example.com/x.txt", max_bytes=1000)


def test_a_training_corpus_given_as_a_url_is_checked_then_stored_by_hash(http_server, monkeypatch):
    http_server.routes["/play.txt"] = TEXT
    url = http_server.url + "/play.txt"
    with pytest.raises(SeqlabError, match="a loopback address"):  # `train --corpus URL` refuses it like the app
        launch.resolve_corpus(url)
    kind = web_address.address_kind  # as if the test server were public
    monkeypatch.setattr(web_address, "address_kind", lambda address: None if address.is_loopback else kind(address))
    stored = Path(launch.resolve_corpus(url))
    assert stored == run_folder.runs_root() / launch.UPLOADS / f"{hashlib.sha256(TEXT).hexdigest()[:32]}.txt"
    assert stored.read_bytes() == TEXT
