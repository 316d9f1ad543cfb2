"""`seqlab app`: start the Streamlit app, from any working directory, with seqlab's own settings.

The app's files (app.py, pages/, .streamlit/config.toml) sit at the top of a checkout and travel in the installed
package as `seqlab_app` (pyproject.toml). Streamlit reads the config.toml beside the script it runs, so starting it
by the script's full path keeps seqlab's limits (upload size, message size, no tracebacks in the browser) whatever
folder the command is typed in. On a desktop the browser opens by itself; on a server (no display) it does not.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

from seqlab.errors import SeqlabError


def app_script() -> Path:
    """app.py of the installed package (seqlab_app), else of the checkout this seqlab was imported from."""
    spec = importlib.util.find_spec("seqlab_app")
    folders = list(spec.submodule_search_locations or []) if spec else []
    folders.append(str(Path(__file__).resolve().parents[2]))  # a checkout: app.py beside the seqlab folder
    for folder in folders:
        if (Path(folder) / "app.py").is_file() and (Path(folder) / "pages").is_dir():
            return Path(folder) / "app.py"
    raise SeqlabError("The app's files (app.py and pages/) were not found beside seqlab",
                      "seqlab installed with `pip install .`, or run from a checkout",
                      "reinstall seqlab: pip install --force-reinstall .")


def on_desktop() -> bool:
    """Whether a browser can open here: Windows and macOS always; Linux and the BSDs only with a display."""
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def streamlit_arguments(port: int | None, extra: list[str], open_browser: bool) -> list[str]:
    """The arguments of `streamlit run` for seqlab's app.py, with the user's own options last (they win)."""
    extra = extra[1:] if extra[:1] == ["--"] else extra
    arguments = ["run", str(app_script()), "--server.headless", "false" if open_browser else "true"]
    return arguments + (["--server.port", str(port)] if port else []) + extra


def command_app(args: argparse.Namespace) -> None:
    """Streamlit runs in this very process (seqlab/ui/server.py), so ending `seqlab app` ends the server too."""
    from seqlab.ui.server import run_streamlit

    arguments = streamlit_arguments(args.port, args.streamlit_options, on_desktop() and not args.no_browser)
    print(f"seqlab: starting the app ({Path(arguments[1]).parent}); press Ctrl-C to stop it", file=sys.stderr)
    code = run_streamlit(arguments)
    if code not in (None, 0):
        raise SeqlabError(f"The app stopped with exit code {code}", "a running app",
                          "read Streamlit's message above (a port in use: pass --port 8502)")


def add_commands(commands, add_root_option) -> None:
    app = commands.add_parser("app", help="start the app in the browser (Streamlit), from any folder")
    app.add_argument("--port", type=int, help="port to serve on (default: Streamlit's, 8501)")
    app.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    app.add_argument("streamlit_options", nargs=argparse.REMAINDER,
                     help="further Streamlit options after --, e.g. -- --server.address 0.0.0.0")
    app.set_defaults(handler=command_app)
