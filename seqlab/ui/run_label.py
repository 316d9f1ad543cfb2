"""A run's human name and note at the top of its live view, and the owner's way to change them.

A student follows `lstm-shakespeare-3`, not `20261124-095754-generate-lstm-8bd6`: the name is the heading, the
id stays beside it in small type (links and the CLI still use it), and the note (what this run tries) sits under
it. Only the run's owner gets the Rename box; a refused name or note is said and the old one kept.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from seqlab.errors import SeqlabError
from seqlab.runs.names import MAX_NAME_CHARACTERS, MAX_NOTE_CHARACTERS, read_label, write_label
from seqlab.ui.messages import plain, show_error

ERROR_KEY = "seqlab_run_label_error"  # the last refused edit's message, shown once on the next draw


def _keys(run_dir: Path) -> tuple[str, str]:
    return f"run-name-{run_dir.name}", f"run-note-{run_dir.name}"


def show_run_label(run_dir: Path, may_edit: bool) -> None:
    """The run's name as a heading, its id in small type, its note; the owner can rename it and write the note."""
    label = read_label(run_dir)
    st.subheader(plain(label["name"]), anchor=False)  # a name is text: never a link or markup
    st.caption(f"Run {run_dir.name}")  # the id, which links and the CLI go by
    if label["note"]:
        st.markdown(f"*{plain(label['note'])}*")
    if not may_edit:
        return
    refused = st.session_state.pop(ERROR_KEY, None)
    if refused:
        show_error(refused)
    name_key, note_key = _keys(run_dir)
    seen_key = f"run-label-seen-{run_dir.name}"
    if st.session_state.get(seen_key) != label:  # first draw, or renamed elsewhere (another tab, the CLI)
        st.session_state[seen_key] = label
        st.session_state[name_key], st.session_state[note_key] = label["name"], label["note"]
    with st.popover("Rename or add a note", icon=":material/edit:"):
        with st.form(f"run-label-{run_dir.name}", border=False):
            st.text_input("Name", key=name_key, max_chars=MAX_NAME_CHARACTERS,
                          help=f"Up to {MAX_NAME_CHARACTERS} characters; the run id does not change.")
            st.text_area("Note", key=note_key, max_chars=MAX_NOTE_CHARACTERS,
                         placeholder="What this run tries, e.g. “clipping off, to see it blow up”")
            st.form_submit_button("Save", on_click=_save, args=(run_dir,))


def _save(run_dir: Path) -> None:
    """Write both, or neither: write_label checks the name and the note before it writes anything."""
    name_key, note_key = _keys(run_dir)
    try:
        write_label(run_dir, name=st.session_state.get(name_key, ""), note=st.session_state.get(note_key, ""))
    except (SeqlabError, OSError) as error:
        st.session_state[ERROR_KEY] = str(error)
        old = read_label(run_dir)
        st.session_state[name_key], st.session_state[note_key] = old["name"], old["note"]
