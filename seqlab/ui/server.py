"""Start the Streamlit server in this process: the one place outside the pages where seqlab calls Streamlit's own
command line (the CLI's `seqlab app` comes here, so seqlab's core never imports Streamlit)."""

from __future__ import annotations

import sys


def run_streamlit(arguments: list[str]) -> int | str | None:
    """`streamlit <arguments>` in this very process (not a child), so Ctrl-C or ending `seqlab app` ends the
    server too; returns the exit code Streamlit gave."""
    from streamlit.web import cli as streamlit_cli

    sys.argv = ["streamlit", *arguments]
    try:
        streamlit_cli.main(args=arguments, prog_name="streamlit")
    except SystemExit as stop:
        return stop.code
    return None
