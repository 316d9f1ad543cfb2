"""Error and warning boxes that show a message as text, never as Markdown.

st.error renders Markdown, and a message can carry text from outside: a CSV header, a file name, a web server's
reason phrase, a run id from the URL. `plain` backslash-escapes every character Markdown (and Streamlit's
`:colour[…]` and `$…$` extensions) would act on, and folds line breaks, so such text shows as written and can
neither format the box nor add a link to it. Words with inner underscores (SEQLAB_MAX_JOBS) stay readable.
"""

from __future__ import annotations

import re

import streamlit as st

_ACTIVE = re.compile(r"([\\*`\[\]<>$~#|!]|(?<!\w)_|_(?!\w))")


def plain(text: object) -> str:
    """`text` as literal Markdown: active characters escaped, line breaks folded into spaces."""
    return _ACTIVE.sub(r"\\\1", " ".join(str(text).splitlines()))


def show_error(message: object) -> None:
    """st.error of a message (a SeqlabError or text) shown literally."""
    st.error(plain(message))


def show_warning(message: object) -> None:
    st.warning(plain(message))
