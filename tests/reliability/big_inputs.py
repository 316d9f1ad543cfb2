"""Big inputs, measured: `python -m tests.reliability.big_inputs`.

Runs what tests/e2e/test_big_inputs.py checks (a 20,000-column CSV uploaded on the Data page; 50 MB for the Paste
box over the websocket, in one frame and in a browser's frames; one frame just under server.maxMessageSize) against
one `streamlit run app.py`, and writes the figures (seconds to the refusal, the server's RSS growth at peak and
after) to bench/results/big_inputs.json. Screenshots go to artifacts/big-inputs/.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import REPO
from tests.e2e import test_big_inputs as big
from tests.reliability import harness

RESULTS = REPO / "bench" / "results" / "big_inputs.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.big_inputs", description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the runs folder and the server log")
    args = parser.parse_args(argv)
    import streamlit
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="seqlab-big-inputs-"))
    artifacts = REPO / "artifacts" / "big-inputs"
    artifacts.mkdir(parents=True, exist_ok=True)
    server = harness.start_app(folder / "runs", folder / "cache", folder / "server.log")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=harness.CHROMIUM, args=harness.CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            figures = big.measure(server.url, server.process.pid, folder / "runs", page, artifacts, folder)
            browser.close()
        figures["server_alive_after"] = server.process.poll() is None
    finally:
        harness.stop_app(server)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    result = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "streamlit": streamlit.__version__,
              "limits": {"seconds": big.LIMIT_SECONDS, "rss_growth_mb": big.LIMIT_MB}, **figures}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(REPO)}")
    cases = [figures["wide_csv"]] + [figures[name] for name, _, _ in big.PASTE_CASES]
    ok = all(case["seconds_to_refusal"] < big.LIMIT_SECONDS and case["peak_growth_mb"] < big.LIMIT_MB
             for case in cases) and figures["after_paste"] == {"healthy": True, "stored": []}
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
