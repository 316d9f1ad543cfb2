"""AppTest of presenter mode through app.py's router: `?present=1` turns it on (the demo bar and the switch above
the page), `?present=0` or nothing leaves it off (the switch in the sidebar).

AppTest (Streamlit 1.67) runs app.py only on a session's first run and then the page alone, so moving between
pages, the switch itself and the address being kept are checked in the browser (tests/e2e/test_presenter_browser.py).
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from seqlab.ui.presenter import QUICK_DEMOS, STATE_KEY, SWITCH_KEY
from tests.conftest import REPO


def router(present: str | None = None) -> AppTest:
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    if present is not None:
        app.query_params["present"] = present
    return app.run()


def demo_bar(app: AppTest) -> list[str]:
    return [button.label for button in app.button if button.label in QUICK_DEMOS]


@pytest.mark.parametrize("present", [None, "0", "yes"])
def test_off_the_switch_is_in_the_sidebar_and_there_is_no_demo_bar(present):
    app = router(present)
    assert not app.exception
    assert app.sidebar.toggle(key=SWITCH_KEY).value is False
    assert demo_bar(app) == []
    assert STATE_KEY not in app.session_state or app.session_state[STATE_KEY] is False


def test_on_from_the_address_the_demos_and_the_switch_come_first():
    app = router("1")
    assert not app.exception and app.session_state[STATE_KEY] is True
    assert demo_bar(app) == list(QUICK_DEMOS)
    assert [button.label for button in app.main.button][:2] == list(QUICK_DEMOS)  # above the page's own buttons
    assert app.main.toggle(key=SWITCH_KEY).value is True and not app.sidebar.toggle
    assert all(button.help for button in app.main.button[:2])
    assert app.title[0].value.startswith("seqlab")  # the Home page still follows


def test_the_stylesheet_is_one_constant_style_element():
    """The only raw HTML presenter mode sends (tests/test_security.py allows it): a fixed <style>, no script, no
    text from outside."""
    from seqlab.ui.presenter import LARGE_TYPE

    assert LARGE_TYPE.startswith("<style>") and LARGE_TYPE.endswith("</style>") and LARGE_TYPE.count("<") == 2
    assert "script" not in LARGE_TYPE.lower() and "{" in LARGE_TYPE and "{{" not in LARGE_TYPE
