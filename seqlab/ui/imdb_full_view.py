"""Data page: get Stanford's full IMDb (imdb-full) from the browser — downloaded with a progress bar and a cancel
button, or taken from an uploaded archive — and say so when the cache already has it.

The download itself runs in seqlab.corpus.dataset_download's background thread (one per server); this page
only starts it, draws its shared state once a second (st.fragment(run_every=1): the rest of the page does not
rerun) and can cancel it. Every browser that opens the page during a download sees the same progress.
"""

from __future__ import annotations

import streamlit as st

from seqlab.corpus import dataset_download
from seqlab.errors import SeqlabError
from seqlab.ui.messages import plain, show_error

ARCHIVE_TYPES = ["gz", "tgz"]  # aclImdb_v1.tar.gz; the full name is checked again in store_archive


def imdb_full_panel() -> bool:
    """Show how to get imdb-full; True when it is in the cache (the caller then loads it)."""
    state = dataset_download.download_state()
    if state.running:
        _progress()
        return False
    if dataset_download.is_available():
        st.success(plain(state.message or "imdb-full is in the cache: no download needed."))
        return True
    if state.phase == "failed":
        show_error(state.message)
    elif state.phase == "cancelled":
        st.info(plain(state.message))
    st.markdown("**imdb-full** is Stanford's Large Movie Review Dataset: 25,000 reviews to train on and 25,000 "
                "*other* reviews to test on (the Score page uses them). It is an 84 MB download from Stanford, "
                "kept in this server's cache so it is fetched only once.")
    left, right = st.columns(2)
    if left.button("Download imdb-full (84 MB)", type="primary", icon=":material/download:"):
        try:
            dataset_download.start_download()
        except SeqlabError as error:  # e.g. no writable cache folder
            show_error(error)
            return False
        st.rerun()
    with right.form("seqlab_imdb_archive", border=False):
        upload = st.file_uploader("…or upload aclImdb_v1.tar.gz if you already have it", type=ARCHIVE_TYPES,
                                  help="The archive as downloaded from Stanford (or its reviews-only copy), at most "
                                       "50 MB here: it is checked as Stanford's layout before it is kept.")
        pressed = st.form_submit_button("Use this archive", icon=":material/upload:")
    if pressed:
        if upload is None:
            show_error("No archive was uploaded. Fix: choose aclImdb_v1.tar.gz above, then press Use this archive.")
            return False
        try:
            with st.spinner("Checking the archive…"):
                _, counts = dataset_download.store_archive(upload.getvalue(), upload.name)
        except SeqlabError as error:
            show_error(error)
            return False
        st.success(f"Archive checked and kept: {counts['train']:,} training and {counts['test']:,} test reviews.")
        return True
    return False


@st.fragment(run_every=1)
def _progress() -> None:
    """Redrawn every second while the download runs; when it ends, the whole page reruns to show the result."""
    state = dataset_download.download_state()
    if not state.running:
        st.rerun()
    if state.phase == "checking":
        st.progress(1.0, text=plain(state.message))
    elif state.fraction is not None:
        st.progress(state.fraction, text=plain(state.message))
    else:  # the server did not say how big the file is: bytes only
        st.progress(0.0, text=plain(state.message))
    stopping = state.cancelling or state.phase != "downloading"
    if st.button("Cancel download", icon=":material/cancel:", disabled=stopping):
        dataset_download.cancel_download()
        st.rerun(scope="fragment")
