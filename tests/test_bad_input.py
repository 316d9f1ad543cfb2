"""Bad input, table-driven (issue 8): every case gets one specific line from the CLI (exit code 2, no traceback)
and a specific message in the app, and leaves the healthy runs trained at the start of this module untouched:
still listed as finished, still loading, still generating.

Where the app cannot take a bad value at all (a widget's bounds, a choice that is not offered), the case checks
that guard instead of an error: the widget keeps a valid value and the page shows no error.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from seqlab.cli.main import main as run_cli
from seqlab.config import ModelConfig, declared
from seqlab.corpus import download, web_address
from seqlab.corpus.decoding import MAX_CORPUS_BYTES
from seqlab.presets import default_configs
from seqlab.runs import jobs, run_folder
from seqlab.ui.settings_form import widget_key
from tests.conftest import REPO

GENERATE_RUN, CLASSIFY_RUN = "20260101-000000-generate-lstm-healthy", "20260101-000000-classify-gru-healthy"
TINY_GENERATE = dict(units=16, embedding_dim=8, sequence_length=20, batch_size=8, max_steps=20)
TINY_CLASSIFY = dict(cell="gru", units=8, embedding_dim=8, vocabulary_size=100, sequence_length=16, batch_size=16,
                     epochs=1, max_steps=8, learning_rate=1e-2)
PAGE_TIMEOUT = 60


# --------------------------------------------------------------------------- the healthy runs and a web server

@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """A runs root with one finished generation run and one finished classification run (trained in-process)."""
    from seqlab.corpus.registry import load_corpus
    from seqlab.runs.worker import train_run

    root = tmp_path_factory.mktemp("bad-input-runs")
    tiny = root.parent / "tiny-hamlet.txt"
    tiny.write_text(load_corpus("hamlet").text[:6000], encoding="utf-8")
    reviews = root.parent / "tiny-reviews.csv"
    reviews.write_text("\n".join(["text,label"] + [f'"a good film {i}, great and wonderful",pos' for i in range(60)]
                                 + [f'"a bad film {i}, boring and awful",neg' for i in range(60)]) + "\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEQLAB_RUNS", str(root))
        for run_id, task, corpus, tiny_settings in ((GENERATE_RUN, "generate", tiny, TINY_GENERATE),
                                                    (CLASSIFY_RUN, "classify", reviews, TINY_CLASSIFY)):
            model, train = default_configs(task, corpus=str(corpus), **tiny_settings)
            run_dir = run_folder.create_run_folder(root / run_id, model, train)
            assert train_run(run_dir) == "finished", run_folder.read_status(run_dir)
    return {"root": root, "tiny": tiny, "digests": {run_id: folder_digest(root / run_id)
                                                    for run_id in (GENERATE_RUN, CLASSIFY_RUN)}}


def folder_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file of a run folder (the lock file aside): any change to the run shows."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file() and path.name != run_folder.STATUS_LOCK}


class Server(ThreadingHTTPServer):
    """Loopback server: `routes` maps a path to a body, or to an int (a Content-Length it claims, body unsent)."""

    routes: dict[str, bytes | int]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = self.server.routes.get(self.path)
        claimed = body if isinstance(body, int) else None
        body = b"not found" if body is None else b"" if claimed else body
        self.send_response(200 if self.path in self.server.routes else 404)
        self.send_header("Content-Length", str(claimed or len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    server = Server(("127.0.0.1", 0), Handler)
    server.routes = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def root(trained, monkeypatch) -> Path:
    """The module's runs root for this test; whatever a case adds to it (damaged runs) is removed afterwards."""
    root = trained["root"]
    monkeypatch.setenv("SEQLAB_RUNS", str(root))
    before = set(root.iterdir())
    yield root
    for entry in set(root.iterdir()) - before:
        if not entry.name.startswith("."):
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()


def allow_loopback(monkeypatch) -> None:
    """What an operator's allow_private_addresses does, for 127.0.0.1 only: the test server is on loopback."""
    kind = web_address.address_kind
    monkeypatch.setattr(web_address, "address_kind", lambda address: None if address.is_loopback else kind(address))


def assert_healthy(root: Path, digests: dict, run_ids: tuple[str, ...] = (), classifier: bool = False) -> None:
    """The healthy runs are listed as finished and unchanged on disk; the generation run (and `run_ids`) load and
    write text; with `classifier`, the classification run loads and scores too."""
    from seqlab.infer.loading import load_sampler
    from seqlab.infer.scoring import ReviewScorer

    listed = {item["id"]: item for item in jobs.list_runs(root)}
    for run_id in (GENERATE_RUN, CLASSIFY_RUN) + run_ids:
        assert listed[run_id]["status"]["state"] == "finished" and not listed[run_id]["error"], listed[run_id]
    for run_id, digest in digests.items():
        assert folder_digest(root / run_id) == digest, f"{run_id} changed on disk"
    for run_id in (GENERATE_RUN,) + run_ids:
        text = load_sampler(root / run_id, root).generate("The ", 12, random_seed=0)[0]
        assert text.startswith("The ") and len(text) == 4 + 12
    if classifier:
        assert ReviewScorer.from_run(root / CLASSIFY_RUN, root).probabilities(["a good film"]).shape == (1,)


# --------------------------------------------------------------------------- what a case makes: files, URLs, runs

@dataclass
class Context:
    work: Path  # this test's own folder
    root: Path  # the runs root
    server: Server
    tiny: Path  # a few thousand characters of Hamlet (a good generation corpus)
    path: Path | None = None  # the bad file (or folder, or missing path)
    data: bytes = b""  # its bytes, for an upload
    url: str = ""
    run: str = ""  # a damaged run's id
    still_healthy: tuple[str, ...] = ()  # damaged-looking runs that must still list, load and generate

    def values(self) -> dict:
        return {"path": self.path, "url": self.url, "run": self.run, "tiny": self.tiny, "work": self.work,
                "generate_run": GENERATE_RUN, "classify_run": CLASSIFY_RUN}


def file(name: str, data: bytes) -> Callable[[Context], None]:
    def make(context: Context) -> None:
        context.path, context.data = context.work / name, data
        context.path.write_bytes(data)
    return make


def sparse(name: str, size: int) -> Callable[[Context], None]:
    """A file of `size` bytes that takes no disk space (over the size cap without writing 50 MB)."""
    def make(context: Context) -> None:
        context.path = context.work / name
        with open(context.path, "wb") as handle:
            handle.truncate(size)
    return make


def missing(name: str) -> Callable[[Context], None]:
    def make(context: Context) -> None:
        context.path = context.work / name
    return make


def folder(name: str) -> Callable[[Context], None]:
    def make(context: Context) -> None:
        context.path = context.work / name
        (context.path / "inside.txt").parent.mkdir()
        (context.path / "inside.txt").write_text("a file in a folder\n")
    return make


def served(route: str, body: bytes | int | None) -> Callable[[Context], None]:
    """A URL on the test server: bytes, a claimed size (int), or None for a 404."""
    def make(context: Context) -> None:
        if body is not None:
            context.server.routes[route] = body
        context.url = context.server.url + route
    return make


def address(url: str) -> Callable[[Context], None]:
    def make(context: Context) -> None:
        context.url = url
    return make


def nothing(context: Context) -> None:
    pass


def damaged_run(name: str, damage: Callable[[Path], None], still_healthy: bool = False) -> Callable[[Context], None]:
    """A copy of the healthy generation run under a new id, then damaged."""
    def make(context: Context) -> None:
        run_dir = context.root / name
        shutil.copytree(context.root / GENERATE_RUN, run_dir)
        damage(run_dir)
        context.run = name
        context.still_healthy = (name,) if still_healthy else ()
    return make


def cut_last_metrics_line(run_dir: Path) -> None:
    """A crash in the middle of a write: the file ends in half a line."""
    text = (run_dir / run_folder.METRICS).read_text(encoding="utf-8")
    last = text.rstrip("\n").rsplit("\n", 1)[-1]
    (run_dir / run_folder.METRICS).write_text(text + last[: len(last) // 2], encoding="utf-8")


def edit_config(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def damage(run_dir: Path) -> None:
        config = json.loads((run_dir / run_folder.CONFIG).read_text(encoding="utf-8"))
        change(config)
        (run_dir / run_folder.CONFIG).write_text(json.dumps(config), encoding="utf-8")
    return damage


def write(name: str, data: bytes) -> Callable[[Path], None]:
    def damage(run_dir: Path) -> None:
        (run_dir / name).write_bytes(data)
    return damage


def append(name: str, data: bytes) -> Callable[[Path], None]:
    def damage(run_dir: Path) -> None:
        with open(run_dir / name, "ab") as handle:
            handle.write(data)
    return damage


def remove(name: str) -> Callable[[Path], None]:
    return lambda run_dir: (run_dir / name).unlink()


# --------------------------------------------------------------------------- the app side of a case

def page(name: str, run: str | None = None, corpus: Path | None = None) -> AppTest:
    app = AppTest.from_file(str(REPO / "pages" / f"{name}.py"), default_timeout=PAGE_TIMEOUT)
    if run is not None:
        app.query_params["run"] = run
    if corpus is not None:  # as the Data page leaves it
        app.session_state["seqlab_corpus"] = {"corpus": str(corpus), "task": "generate", "label": corpus.name}
    return app.run()


def data_page(source: str) -> AppTest:
    app = page("data")
    app.radio[0].set_value(source).run()
    return app


def upload(context: Context) -> AppTest:
    app = data_page("Upload")
    app.file_uploader[0].set_value((context.path.name, context.data, "text/plain")).run()
    return app


def paste(text: str) -> Callable[[Context], AppTest]:
    def open_app(context: Context) -> AppTest:
        app = data_page("Paste")
        app.text_area[0].input(text).run()
        return app
    return open_app


def url_box(context: Context) -> AppTest:
    app = data_page("URL")
    app.text_input[0].input(context.url).run()
    return app


def train_page_on_path(context: Context) -> AppTest:
    """The Train page holding a corpus path chosen earlier (on the Data page) that is no longer a good file."""
    return page("train", corpus=context.path)


def train_knob(kind: str, name: str, value, guarded: bool = True) -> Callable[[Context], AppTest]:
    """The Train page on the tiny corpus with one knob set to `value`; a guarded knob must refuse it."""
    def open_app(context: Context) -> AppTest:
        app = page("train", corpus=context.tiny)
        getattr(app, kind)(key=widget_key(name)).set_value(value).run()
        if guarded:
            kept = getattr(app, kind)(key=widget_key(name)).value
            assert kept != value and app.session_state[f"train_{name}"] == kept
        return app
    return open_app


def train_page_without_bidirectional(context: Context) -> AppTest:
    app = page("train", corpus=context.tiny)
    assert app.radio(key=widget_key("task")).value == "generate"
    assert widget_key("bidirectional") not in [checkbox.key for checkbox in app.checkbox]
    return app


def train_page_classify_offers_no_text(context: Context) -> AppTest:
    app = page("train", corpus=context.tiny)
    label = f"{context.tiny.name} (chosen on the Data page)"
    assert app.selectbox(key=widget_key("corpus")).value == str(context.tiny)  # offered for generation...
    assert label in app.selectbox(key=widget_key("corpus")).options
    app.radio(key=widget_key("task")).set_value("classify").run()
    corpus = app.selectbox(key=widget_key("corpus"))
    assert label not in corpus.options and corpus.value != str(context.tiny)  # ...but not for sentiment
    return app


def train_page_cells_only(context: Context) -> AppTest:
    app = page("train", corpus=context.tiny)
    assert list(app.selectbox(key=widget_key("cell")).options) == ["SimpleRNN", "LSTM", "GRU", "Tiny Transformer"] \
        and len(declared(ModelConfig)["cell"].choices) == 4
    return app


def labelled(elements, label: str):
    return next(element for element in elements if element.label == label)


def generate_with(kind: str, label: str, value, option: str | None = None) -> Callable[[Context], AppTest]:
    """The Generate page on the healthy run, one option set to `value`, Generate pressed.

    With `option` (the guarded field's name), the widget must refuse the value and the text be written with a
    valid one."""
    def open_app(context: Context) -> AppTest:
        app = page("generate", run=GENERATE_RUN)
        widget = labelled(getattr(app, kind), label)
        widget.input(value) if kind == "text_area" else widget.set_value(value)
        labelled(app.button, "Generate").click()
        app.run()
        if option is not None:
            assert labelled(getattr(app, kind), label).value != value
            used = app.session_state["seqlab_generated"]["options"][option]
            assert used != value and used == labelled(getattr(app, kind), label).value
        return app
    return open_app


def score_upload(context: Context) -> AppTest:
    app = page("score", run=CLASSIFY_RUN)
    app.file_uploader[0].set_value(("reviews.csv", context.data, "text/csv")).run()
    labelled(app.button, "Score the file").click()
    return app.run()


def routed_runs_page(context: Context) -> AppTest:
    """The Runs page under a router (its page links need one) with ?run=<the damaged run>."""
    folder = context.work / "app"
    (folder / "pages").mkdir(parents=True)
    names = ["runs", "home", "data", "train", "generate", "score"]
    (folder / "pages" / "runs.py").symlink_to(REPO / "pages" / "runs.py")
    for name in names[1:]:
        (folder / "pages" / f"{name}.py").write_text(f"import streamlit as st\nst.title('{name} stub')\n")
    (folder / "router.py").write_text("import streamlit as st\nst.navigation([" + ", ".join(
        f"st.Page('pages/{name}.py', default={name == 'runs'})" for name in names) + "]).run()\n")
    app = AppTest.from_file(str(folder / "router.py"), default_timeout=PAGE_TIMEOUT)
    app.query_params["run"] = context.run
    return app.run()


def runs_page_lists_finished(context: Context) -> AppTest:
    app = routed_runs_page(context)
    table = app.dataframe[0].value.set_index("Run id")
    assert table.loc[context.run, "Status"] == "finished" and not table.loc[context.run, "Problem"]
    return app


def generate_page_run(context: Context) -> AppTest:
    """The Generate page with ?run=<id>; when that run is offered, Generate is pressed."""
    app = page("generate", run=context.run)
    if app.selectbox and app.selectbox[0].value == context.run:
        labelled(app.button, "Generate").click()
        app.run()
    return app


# --------------------------------------------------------------------------- the table

@dataclass(frozen=True)
class Case:
    make: Callable[[Context], None]  # writes the bad input into the context
    cli: tuple[str, ...]  # `python -m seqlab` arguments, each formatted with Context.values()
    cli_says: str  # in the one `error: ...` line on stderr (exit 2); with cli_exit 0, the command just works
    app: Callable[[Context], AppTest]  # the page, after the person's action
    app_says: str | None  # in an element of kind `shown` (None: a guard refused the value; no error at all)
    shown: str = "error"
    cli_exit: int = 2
    loopback: bool = False  # the case uses the test server as if it were public


def case(case_id: str, *args, **kwargs):
    return pytest.param(Case(*args, **kwargs), id=case_id)


UTF16_TEXT = ("To be, or not to be, that is the question.\n" * 60).encode("utf-16-le")
BINARY = bytes(range(256)) * 40
GOOD_ROWS = "".join(f'"a good film {i}, great",pos\n' for i in range(20))
BAD_ROWS = "".join(f'"a bad film {i}, awful",neg\n' for i in range(20))
INSPECT = ("inspect", "{path}")
INSPECT_URL = ("inspect", "{url}")
TRAIN = ("train", "--corpus", "{tiny}", "--max-steps", "1", "--detach")
GENERATE = ("generate", "{generate_run}", "--length", "20")
SCORE = ("score", "{classify_run}", "--file", "{path}", "--out", "{work}/scored.csv")

CASES = [
    # corpora: a path (CLI), an upload, pasted text or a URL (app)
    case("corpus-empty", file("empty.txt", b""), INSPECT, "is empty (0 bytes)", upload, "is empty (0 bytes)"),
    case("corpus-binary", file("binary.txt", BINARY), INSPECT, "looks like a binary file", upload,
         "looks like a binary file"),
    case("corpus-not-western", file("russian.txt", "Text: Привет мир, это тест.\n".encode("cp1251") * 100), INSPECT,
         "is not valid UTF-8: byte 0xcf at position 6", upload, "is not valid UTF-8: byte 0xcf at position 6"),
    case("corpus-utf16-without-bom", file("utf16.txt", UTF16_TEXT), INSPECT,
         "looks like UTF-16 text without a byte-order mark", upload,
         "looks like UTF-16 text without a byte-order mark"),
    case("corpus-over-size-cap", sparse("huge.txt", MAX_CORPUS_BYTES + 1), INSPECT, "over the 50.0 MB limit",
         train_page_on_path, "over the 50.0 MB limit"),
    case("corpus-unknown-extension", served("/table.xlsx", b"text,label\ngood,pos\nbad,neg\n"), INSPECT_URL,
         "has the extension '.xlsx', which seqlab does not read", url_box,
         "Files ending in '.xlsx' cannot be used as a corpus", loopback=True),
    case("corpus-missing-path", missing("gone.txt"), INSPECT, "No file or folder at", train_page_on_path,
         "No file or folder at"),
    case("corpus-directory", folder("a-folder"), INSPECT, "is a folder", train_page_on_path, "is a folder"),
    case("csv-without-label-column", file("reviews.csv", ("review,author\n" + "".join(
        f"a film I saw on day {i},someone {i}\n" for i in range(30))).encode()), INSPECT,
         "no column holds labels", upload, "no column holds labels"),
    case("csv-one-class", file("positive.csv", ("text,label\n" + GOOD_ROWS).encode()), INSPECT,
         "is labelled positive, so there is nothing to tell apart", upload,
         "is labelled positive, so there is nothing to tell apart"),
    case("csv-unknown-labels", served("/unknown.csv", ("text,label\n" + GOOD_ROWS.replace(",pos", ",meh")).encode()),
         INSPECT_URL, "label values seqlab does not understand: 'meh'", url_box,
         "label values seqlab does not understand: 'meh'", loopback=True),
    case("csv-ambiguous-columns", file("two-texts.csv", ("text,review,label\n" + GOOD_ROWS.replace(
        ",pos", ",x,pos") + BAD_ROWS.replace(",neg", ",y,neg")).encode()), INSPECT,
         "several columns that could be the text column: text, review", upload,
         "several columns that could be the text column: text, review"),
    case("pasted-whitespace", file("blank.txt", b"  \n\t \n   "), INSPECT, "contains only whitespace",
         paste("  \n\t \n   "), "only whitespace"),
    case("url-not-http", address("ftp://example.com/corpus.txt"), INSPECT_URL,
         "only http and https URLs are allowed", url_box, "only http and https URLs are allowed"),
    case("url-loopback", served("/corpus.txt", b"To be or not to be\n" * 100), INSPECT_URL,
         "resolves to 127.0.0.1, a loopback address", url_box, "resolves to 127.0.0.1, a loopback address"),
    case("url-404", served("/missing.txt", None), INSPECT_URL, "answered HTTP 404", url_box, "answered HTTP 404",
         loopback=True),
    case("url-too-large", served("/huge.txt", MAX_CORPUS_BYTES + 1), INSPECT_URL,
         f"the limit is {download._megabytes(MAX_CORPUS_BYTES)}", url_box,
         f"the limit is {download._megabytes(MAX_CORPUS_BYTES)}", loopback=True),
    # training configurations
    case("train-units-0", nothing, TRAIN + ("--units", "0"), "units is 0", train_knob("number_input", "units", 0),
         None),
    case("train-dropout-0.9", nothing, TRAIN + ("--dropout", "0.9"), "dropout is 0.9",
         train_knob("slider", "dropout", 0.9), None),
    case("train-weight-dropout-0.9", nothing, TRAIN + ("--weight-dropout", "0.9"), "weight_dropout is 0.9",
         train_knob("slider", "weight_dropout", 0.9), None),
    case("train-weight-average--5", nothing, TRAIN + ("--weight-average", "-5"), "weight_average_steps is -5",
         train_knob("number_input", "weight_average_steps", -5), None),
    case("train-layers-9", nothing, TRAIN + ("--layers", "9"), "num_layers is 9",
         train_knob("slider", "num_layers", 9), None),
    case("train-learning-rate-0", nothing, TRAIN + ("--learning-rate", "0"), "learning_rate is 0.0",
         train_knob("number_input", "learning_rate", 0.0), None),
    case("train-clip-threshold-0", nothing, TRAIN + ("--clip", "norm", "--clip-threshold", "0"),
         "clip_threshold is 0.0", train_knob("number_input", "clip_threshold", 0.0), None),
    case("train-bidirectional-generate", nothing, TRAIN + ("--bidirectional",),
         "bidirectional is on for a generation model", train_page_without_bidirectional, None),
    case("train-classify-on-txt", nothing, TRAIN + ("--task", "classify"),
         "is a generate corpus, but the run is a classify run", train_page_classify_offers_no_text, None),
    case("train-sequence-too-long", nothing, TRAIN + ("--sequence-length", "2000"),
         "too short for sequence length 2000", train_knob("number_input", "sequence_length", 2000, guarded=False),
         "too short for sequence length 2000"),
    case("train-unknown-cell", nothing, TRAIN + ("--cell", "mamba"), "invalid choice: 'mamba'",
         train_page_cells_only, None),
    # seeds and sampling options
    case("seed-outside-vocabulary", nothing, GENERATE + ("--seed", "Hamlet ☃"), "never saw: '☃'",
         generate_with("text_area", "Seed text", "Hamlet ☃"), "never saw: '☃'"),
    case("seed-temperature-0", nothing, GENERATE + ("--temperature", "0"), "--temperature is 0.0",
         generate_with("slider", "Temperature", 0.0, "temperature"), None),
    case("seed-length-0", nothing, ("generate", "{generate_run}", "--length", "0"), "length is 0",
         generate_with("number_input", "Characters to write", 0, "length"), None),
    case("seed-top-p-1.5", nothing, GENERATE + ("--top-p", "1.5"), "top_p is 1.5",
         generate_with("slider", "Pick among the likeliest share (top-p)", 1.5, "top_p"), None),
    case("seed-top-k-negative", nothing, GENERATE + ("--top-k", "-1"), "top_k is -1",
         generate_with("number_input", "Pick among the k likeliest (0 = all)", -1, "top_k"), None),
    # CSV files to score
    case("score-no-text-column", file("numbers.csv", b"a,b\n1,2\n3,4\n"), SCORE, "has no column with review text",
         score_upload, "has no column with review text"),
    case("score-empty-file", file("empty.csv", b""), SCORE, "is empty (0 bytes)", score_upload,
         "is empty (0 bytes)"),
    case("score-binary-file", file("binary.csv", BINARY), SCORE, "looks like a binary file, not a table",
         score_upload, "looks like a binary file, not a table"),
    # run folders
    case("run-truncated-metrics", damaged_run("truncated-metrics", cut_last_metrics_line, still_healthy=True),
         ("generate", "{run}", "--length", "5"), "", runs_page_lists_finished, None, cli_exit=0),
    case("run-missing-model", damaged_run("no-model", remove(run_folder.BEST_MODEL)), ("generate", "{run}"),
         "has no model.keras yet", generate_page_run, "cannot be used here", shown="warning"),
    case("run-config-invalid-json", damaged_run("bad-json", write(run_folder.CONFIG, b'{"model": {')),
         ("generate", "{run}"), "config.json is not valid JSON", routed_runs_page, "config.json is not valid JSON"),
    case("run-config-unknown-cell", damaged_run("bad-cell", edit_config(lambda c: c["model"].update(
        cell="mamba"))), ("generate", "{run}"), "Unknown cell 'mamba'", routed_runs_page,
         "Unknown cell 'mamba'"),
    case("run-model-tampered", damaged_run("tampered", append(run_folder.BEST_MODEL, b"\0extra bytes")),
         ("generate", "{run}"), "its checksum does not match", generate_page_run, "its checksum does not match"),
    case("run-status-garbage", damaged_run("bad-status", write(run_folder.STATUS, b"\x00garbage{")),
         ("resume", "{run}"),
         "is damaged and cannot be resumed", routed_runs_page, "status.json is missing or damaged"),
    case("run-id-path-traversal", address(""), ("generate", "../x"), "../x is not a seqlab run folder",
         lambda context: page("generate", run="../x"), "'../x' is not a valid run id"),
]


@pytest.mark.parametrize("bad", CASES)
def test_bad_input_gets_a_specific_message_and_leaves_the_runs_intact(bad: Case, root, trained, server, tmp_path,
                                                                     capsys, monkeypatch):
    if bad.loopback:
        allow_loopback(monkeypatch)
    context = Context(tmp_path, root, server, trained["tiny"])
    bad.make(context)
    entries = {path.name for path in root.iterdir()}
    capsys.readouterr()

    code = run_cli([part.format(**context.values()) for part in bad.cli])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if bad.cli_exit == 2:
        *progress, line = err.rstrip("\n").split("\n")  # a download draws a progress line first
        assert code == 2 and line.startswith("error: ") and all(p.startswith("\rdownloading:") for p in progress), err
        assert bad.cli_says in line
    else:
        assert code == 0 and out.strip(), err
    left = {path.name for path in root.iterdir()}
    assert left <= entries | {".uploads", jobs.LOCK_NAME}, "the CLI left something behind"

    app = bad.app(context)
    assert not app.exception, app.exception
    if bad.app_says is None:
        assert not app.error, [element.value for element in app.error]
    else:
        shown = [element.value for element in getattr(app, bad.shown)]
        assert any(bad.app_says in message for message in shown), shown

    assert_healthy(root, trained["digests"], context.still_healthy, classifier=bad.cli[0] == "score")


def test_the_table_covers_at_least_30_distinct_cases():
    ids = [param.id for param in CASES]
    assert len(ids) == len(set(ids)) >= 30


@pytest.mark.parametrize("argv, says", [
    (["inspect", "{binary}"], "looks like a binary file"),
    (["inspect", "ftp://example.com/corpus.txt"], "only http and https URLs are allowed"),
])
def test_a_real_terminal_gets_one_line_and_no_traceback(argv, says, tmp_path):
    binary = tmp_path / "binary.txt"
    binary.write_bytes(BINARY)
    result = subprocess.run([sys.executable, "-m", "seqlab"] + [part.format(binary=binary) for part in argv],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 2 and not result.stdout
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1 and says in result.stderr
    assert "Traceback" not in result.stderr
