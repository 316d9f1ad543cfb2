"""Streamlit AppTest for each page: it renders, its widgets are there, errors show as messages."""

from streamlit.testing.v1 import AppTest

from tests.conftest import REPO


def test_data_page_shows_builtin_statistics():
    app = AppTest.from_file(str(REPO / "pages" / "data.py"), default_timeout=60).run()
    assert not app.exception
    assert app.radio[0].options == ["Built-in", "Upload", "Paste", "URL"]
    assert app.metric[0].label == "Characters" and app.metric[0].value == "1,115,394"


def test_data_page_paste_too_short_is_fine_and_whitespace_is_an_error():
    app = AppTest.from_file(str(REPO / "pages" / "data.py"), default_timeout=60).run()
    app.radio[0].set_value("Paste").run()
    app.text_area[0].input("   ").run()
    assert not app.exception
    assert "whitespace" in app.error[0].value


def test_app_router_runs():
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not app.exception


def test_a_50_mb_paste_is_refused_quickly_and_cheaply():
    """The box stops a browser at its max_chars; a message forged around it is refused by the server's widget
    state cap (.streamlit/config.toml) before the page runs: no corpus, no statistics."""
    import resource
    import time
    import tomllib

    from seqlab.ui.data_view import MAX_PASTED_CHARACTERS

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert MAX_PASTED_CHARACTERS * 4 <= config["server"]["maxWidgetStateSize"] * 2**20  # a full box always fits
    app = AppTest.from_file(str(REPO / "pages" / "data.py"), default_timeout=60).run()
    app.radio[0].set_value("Paste").run()
    assert app.text_area[0].max_chars == MAX_PASTED_CHARACTERS
    payload = "To be, or not to be. " * 2_500_000  # 52.5 MB
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    app.text_area[0].set_value(payload).run()  # past the box's max_chars, as a forged message would be
    assert time.monotonic() - started < 2.0
    assert app.exception and not app.metric  # refused whole; nothing was read or counted
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 400  # the payload itself and AppTest's copies of it
