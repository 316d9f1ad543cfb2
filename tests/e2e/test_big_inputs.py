"""Issue 22, "Must show": a wide CSV and a 50 MB text-box payload are refused in under 2 s, the server's memory
growing by under 100 MB, against a real `streamlit run app.py` (one server for both).

1. A 20,000-column CSV (~1 MB) goes through the Data page's uploader in headless Chromium (HTTP, as a person's
   browser sends it); the table is refused at its header (seqlab.corpus.tables.check_width) and the page says
   what happened, what is expected and how to fix it.
2. 50 MB for the Paste box goes over the websocket as an attacker's script would send it: a browser stops typing
   and pasting at the box's max_chars, and Streamlit cuts a value at max_chars on the server too
   (text_widgets.py), so only a forged message can carry more. It is sent in one frame and in the 131 KB frames
   Chromium splits a large message into, from a plain socket: Playwright copies every websocket frame a page sends
   to the test process, which takes a minute for 50 MB. The server refuses the frame at its header, or the
   message once 25 MB of it are read (server.maxMessageSize in .streamlit/config.toml), closing with 1009
   "message too big"; the sender gets no message from the app. One frame just under that cap (over
   server.maxWidgetStateSize, 5 MB) is the most the server reads before refusing: it is measured too.

Memory is the server process's peak resident size (VmHWM, its high-water mark reset just before each input through
/proc/<pid>/clear_refs) over its size just before; the settled size after is reported too. Screenshots go to the
artifacts folder (big-inputs-*.png). Figures are printed (pytest -s shows them); `python -m
tests.reliability.big_inputs` writes them to bench/results/big_inputs.json.
"""

from __future__ import annotations

import select
import socket
import threading
import time
import urllib.request
from pathlib import Path

import psutil
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from tests.e2e.conftest import wait_idle

LIMIT_SECONDS, LIMIT_MB = 2.0, 100.0
WIDE_COLUMNS, WIDE_ROWS = 20_000, 20
PAYLOAD_BYTES = 50 * 2**20  # 50 MB of text for the Paste box
ERROR_BOX = '[data-testid="stAlertContentError"]'
BROWSER_FRAGMENT = 131_000  # bytes per websocket frame when Chromium sends one large message
PASTE_CASES = [  # (name, characters in the Paste box, frame size: None for one frame)
    ("paste_50_mb_one_frame", PAYLOAD_BYTES, None),
    ("paste_50_mb_browser_frames", PAYLOAD_BYTES, BROWSER_FRAGMENT),
    ("paste_just_under_message_cap", 24_900_000, None),  # + ~120 bytes of envelope < 25,000,000
]


class Memory:
    """The server's resident memory around one input: before, peak during, and settled after (MB)."""

    def __init__(self, pid: int):
        self.process = psutil.Process(pid)
        self.clear_refs = Path(f"/proc/{pid}/clear_refs")
        self._polled, self._stop, self._thread = 0.0, threading.Event(), None

    def _status(self, field: str) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no {field} for process {self.process.pid}")

    def _rss(self) -> float:
        return self.process.memory_info().rss / 2**20

    def __enter__(self) -> Memory:
        try:  # "5" resets the kernel's high-water mark (VmHWM) to the current RSS (Linux >= 4.0)
            self.clear_refs.write_text("5")
            self.kernel_peak = True
        except OSError:  # not allowed here: sample the RSS instead, every 10 ms
            self.kernel_peak = False
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        self.before = self._rss()
        return self

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._polled = max(self._polled, self._rss())
            time.sleep(0.01)

    def __exit__(self, *exc) -> None:
        self.after = self._rss()
        if self._thread:
            self._stop.set()
            self._thread.join()
        self.peak = max(self._status("VmHWM") if self.kernel_peak else self._polled, self.after)

    @property
    def figures(self) -> dict:
        return {"rss_before_mb": round(self.before, 1), "peak_growth_mb": round(self.peak - self.before, 1),
                "settled_growth_mb": round(self.after - self.before, 1)}


def wide_csv(path: Path, columns: int = WIDE_COLUMNS, rows: int = WIDE_ROWS) -> Path:
    """A review table exported with a bag-of-words column per word: text, label, then 0/1 features."""
    header = ["text", "label"] + [f"w_{index:05d}" for index in range(columns - 2)]
    lines = [",".join(header)]
    for row in range(rows):
        features = ",".join("1" if (row * 7 + index) % 97 == 0 else "0" for index in range(columns - 2))
        lines.append(f'"review number {row}, a {"good" if row % 2 else "dull"} film",{row % 2},{features}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def paste_box_ids(url: str) -> tuple[str, str]:
    """The widget ids of the Data page's Source radio and Paste box, as the server announces them to a client
    (a script drives a session there over the websocket, choosing the Paste source)."""
    from websockets.sync.client import connect

    def run_page(stream, widgets=()) -> dict[str, object]:
        message = BackMsg()
        message.rerun_script.page_name = "data"
        message.rerun_script.widget_states.widgets.extend(widgets)
        stream.send(message.SerializeToString())
        shown, deadline = {}, time.monotonic() + 30
        while time.monotonic() < deadline:
            forward = ForwardMsg()
            forward.ParseFromString(stream.recv(timeout=30))
            if forward.WhichOneof("type") == "delta" and forward.delta.WhichOneof("type") == "new_element":
                element = forward.delta.new_element
                kind = element.WhichOneof("type")
                shown[f"{kind}:{getattr(getattr(element, kind), 'label', '')}"] = getattr(element, kind)
            if forward.WhichOneof("type") == "script_finished" and forward.script_finished == 0:  # not a rerun
                return shown
        raise AssertionError("the Data page did not finish a run")

    with connect(url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"]) as stream:
        radio = run_page(stream)["radio:Source"].id
        box = next(e.id for name, e in run_page(stream, [WidgetState(id=radio, string_value="Paste")]).items()
                   if name.startswith("text_area:Paste"))
    return radio, box


def paste_message(radio: str, box: str, size: int = PAYLOAD_BYTES) -> bytes:
    """The BackMsg that reruns the Data page with `size` characters in the Paste box."""
    message = BackMsg()
    message.rerun_script.page_name = "data"
    message.rerun_script.widget_states.widgets.extend([WidgetState(id=radio, string_value="Paste"),
                                                       WidgetState(id=box, string_value="x" * size)])
    return message.SerializeToString()


def send_until_refused(url: str, data: bytes, fragment: int | None, timeout: float = 10.0) -> dict:
    """Open a websocket and send `data` as one message (in frames of `fragment` bytes, as a browser does, or in one
    frame), reading between writes, until the server closes; returns the close code, its reason and the seconds
    from the first byte sent. A plain socket and websockets' sans-I/O protocol, so that the server's close frame is
    read even when its connection reset follows at once (a threaded client can lose it in that race)."""
    from websockets.client import ClientProtocol
    from websockets.frames import Close
    from websockets.protocol import State
    from websockets.typing import Subprotocol
    from websockets.uri import parse_uri

    uri = parse_uri(url.replace("http", "ws", 1) + "/_stcore/stream")
    protocol = ClientProtocol(uri, subprotocols=[Subprotocol("streamlit")], max_size=None)
    with socket.create_connection((uri.host, uri.port), timeout=timeout) as connection:
        protocol.send_request(protocol.connect())
        connection.sendall(b"".join(protocol.data_to_send()))
        while protocol.state is State.CONNECTING:
            protocol.receive_data(connection.recv(65536))
        assert protocol.state is State.OPEN, protocol.handshake_exc
        protocol.events_received()  # the handshake's response
        pieces = [data[i:i + fragment] for i in range(0, len(data), fragment)] if fragment else [data]
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            if index == 0:
                protocol.send_binary(piece, fin=last)
            else:
                protocol.send_continuation(piece, fin=last)
        wire = memoryview(b"".join(protocol.data_to_send()))
        del pieces

        def read(wait: float) -> bool:
            """Feed what the server sent (within `wait` seconds) to the protocol; False once the socket ended."""
            if not select.select([connection], [], [], wait)[0]:
                return True
            try:
                received = connection.recv(1 << 20)
            except OSError:
                received = b""
            if received:
                protocol.receive_data(received)
            else:
                protocol.receive_eof()
            return bool(received)

        started, sent = time.monotonic(), 0
        try:
            while sent < len(wire) and protocol.close_rcvd is None and read(0):
                sent += connection.send(wire[sent:sent + (1 << 16)])
        except OSError:  # the server has gone: what it said before is still to be read
            pass
        deadline = started + timeout
        while protocol.close_rcvd is None and time.monotonic() < deadline and read(0.05):
            pass
        seconds = time.monotonic() - started
    close: Close | None = protocol.close_rcvd
    return {"code": close.code if close else None, "reason": close.reason if close else "no close frame",
            "seconds": round(seconds, 2), "sent_mb": round(sent / 2**20, 1)}


def healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=5).status == 200
    except OSError:
        return False


def stored_corpora(runs_root: Path) -> set[str]:
    folder = runs_root / ".uploads"
    return {str(path.relative_to(folder)) for path in folder.rglob("*")} if folder.exists() else set()


def measure(url: str, pid: int, runs_root: Path, page, artifacts: Path, workdir: Path) -> dict:
    """Both inputs against one running app, in one page; returns the figures (and what the page said)."""
    figures = {}

    # warm the Data page once (its modules, the built-in corpus, the uploader) so the baseline is fair
    page.goto(f"{url}/data")
    page.get_by_text("Distinct characters").first.wait_for(timeout=60_000)
    page.get_by_text("Upload", exact=True).click()
    uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    uploader.wait_for(state="attached")
    wait_idle(page)

    # 1. a 20,000-column CSV through the uploader
    stored = stored_corpora(runs_root)
    table = wide_csv(workdir / "bag_of_words.csv")
    error = page.locator(ERROR_BOX).filter(has_text="columns in its header")
    with Memory(pid) as memory:
        started = time.monotonic()
        uploader.set_input_files(table)
        error.wait_for(timeout=30_000)
        seconds = time.monotonic() - started
        wait_idle(page)
    page.screenshot(path=artifacts / "big-inputs-1-wide-csv.png", full_page=True)
    figures["wide_csv"] = {"columns": WIDE_COLUMNS, "file_mb": round(table.stat().st_size / 2**20, 2),
                           "seconds_to_refusal": round(seconds, 2), **memory.figures, "message": error.inner_text(),
                           "stored": sorted(stored_corpora(runs_root) - stored)}
    print(f"\nwide CSV ({WIDE_COLUMNS:,} columns, {figures['wide_csv']['file_mb']} MB): refused in {seconds:.2f} s, "
          f"server RSS +{memory.peak - memory.before:.1f} MB at peak, +{memory.after - memory.before:.1f} MB after"
          f"\n  the page says: {figures['wide_csv']['message']}")

    # 2. 50 MB for the Paste box over the websocket, in one frame and in a browser's 131 KB frames; and the most
    # the server reads before refusing: one frame just under server.maxMessageSize (25 MB), over maxWidgetStateSize
    stored = stored_corpora(runs_root)
    radio, box = paste_box_ids(url)
    for name, characters, fragment in PASTE_CASES:
        data = paste_message(radio, box, characters)
        with Memory(pid) as memory:
            closed = send_until_refused(url, data, fragment)
        figures[name] = {"characters": characters, "message_mb": round(len(data) / 2**20, 1),
                         "frame_bytes": fragment or len(data), "seconds_to_refusal": closed["seconds"],
                         "close": closed, **memory.figures}
        print(f"{name}: {characters:,} characters ({len(data):,} bytes, frames of {fragment or len(data):,} "
              f"bytes): closed with {closed['code']} {closed['reason']!r} in {closed['seconds']:.2f} s, server RSS "
              f"+{memory.peak - memory.before:.1f} MB at peak, +{memory.after - memory.before:.1f} MB after")
        del data

    # afterwards: the server answers, a fresh page loads and offers the Paste box, nothing was stored
    after = figures["after_paste"] = {"healthy": healthy(url)}
    fresh = page.context.browser.new_page()
    fresh.goto(f"{url}/data")
    fresh.get_by_text("Distinct characters").first.wait_for(timeout=30_000)
    fresh.get_by_text("Paste", exact=True).click()
    fresh.get_by_label("Paste a text to learn from").first.wait_for()
    wait_idle(fresh)
    fresh.screenshot(path=artifacts / "big-inputs-2-fresh-page-after-paste.png", full_page=True)
    fresh.close()
    after["stored"] = sorted(stored_corpora(runs_root) - stored)
    return figures


def test_wide_csv_and_50_mb_paste_are_refused_fast_and_small(app_server, browser_page, artifacts, tmp_path):
    url, server = app_server
    figures = measure(url, server.pid, server.runs_root, browser_page, artifacts, tmp_path)

    wide = figures["wide_csv"]
    message = wide["message"]
    assert f"bag_of_words.csv has {WIDE_COLUMNS:,} columns in its header" in message, message  # the name they know
    assert "Expected at most 100 columns (a review table needs two: the text and its label)" in message, message
    assert "Fix: save a copy of the table with only its text and label columns" in message, message
    assert wide["seconds_to_refusal"] < LIMIT_SECONDS, wide
    assert wide["peak_growth_mb"] < LIMIT_MB, wide

    for name, _, _ in PASTE_CASES:
        paste = figures[name]
        assert paste["close"]["code"] == 1009, paste  # 1009: message too big
        assert paste["seconds_to_refusal"] < LIMIT_SECONDS, paste
        assert paste["peak_growth_mb"] < LIMIT_MB, paste
    assert figures["after_paste"] == {"healthy": True, "stored": []}, figures["after_paste"]
    assert server.poll() is None
