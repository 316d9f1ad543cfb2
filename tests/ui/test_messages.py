"""Messages show as text: whatever a message carries (a URL parameter, a file name, a CSV header, a web server's
reason phrase) cannot format an error box or put a link in it."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from seqlab.ui.messages import plain
from tests.conftest import REPO


def test_plain_escapes_what_markdown_would_act_on_and_keeps_words_readable():
    assert plain("**bold** [x](http://e.example) <b>") == r"\*\*bold\*\* \[x\](http://e.example) \<b\>"
    assert plain(":red[x] $y$ `z` ~w~ # h | t !") == r":red\[x\] \$y\$ \`z\` \~w\~ \# h \| t \!"
    assert plain("_under_ SEQLAB_MAX_JOBS a\\b") == r"\_under\_ SEQLAB_MAX_JOBS a\\b"
    assert plain("one\ntwo\r\nthree") == "one two three"  # no new paragraph, heading or list


def test_a_run_id_from_the_address_shows_literally_in_the_error_box():
    app = AppTest.from_file(str(REPO / "pages" / "train.py"), default_timeout=60)
    app.query_params["run"] = "[click here](http://evil.example) **now**"
    app.run()
    assert not app.exception
    assert r"'\[click here\](http://evil.example) \*\*now\*\*' is not a valid run id" in app.error[0].value


def test_every_error_box_of_the_app_goes_through_plain():
    """st.error / st.warning with a variable in them appear only in messages.py or wrap the variable in plain()."""
    offenders = []
    for path in sorted((REPO / "seqlab" / "ui").glob("*.py")):
        if path.name == "messages.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            call = re.search(r"st\.(error|warning)\((.*)", line)
            if call and not call.group(2).startswith('"') and "plain(" not in line:
                offenders.append(f"{path.name}:{number}: {line.strip()}")
            elif call and "{" in call.group(2) and "plain(" not in line:
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert not offenders, offenders


def test_every_text_box_of_the_app_has_a_length_limit():
    """A browser cannot type or paste past max_chars (and Streamlit cuts a forged longer value on the server)."""
    offenders = []
    for path in sorted((REPO / "seqlab" / "ui").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for call in re.finditer(r"st\.(text_input|text_area|chat_input)\(", source):
            depth, end = 0, call.end() - 1
            for end in range(call.end() - 1, len(source)):  # the call's whole argument list
                depth += {"(": 1, ")": -1}.get(source[end], 0)
                if depth == 0:
                    break
            arguments = source[call.end():end]
            if "max_chars" not in arguments and "disabled=True" not in arguments:
                offenders.append(f"{path.name}: {source[call.start():end + 1][:80]}")
    assert not offenders, offenders
