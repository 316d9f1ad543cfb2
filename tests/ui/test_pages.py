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
