"""Presenter mode: large type, full-width charts, the sidebar out of the way and the quick demos one click away.

seqlab is shown on projectors: at 1024 × 768 from the back of a room the normal type is too small, the sidebar
takes a third of the screen and the quick demos sit far down the Home page. Presenter mode is one switch (or
`?present=1` in a link). The flag lives in the session, so moving between pages keeps it even where a page rewrites
the address, and app.py puts `present=1` back into the address on every run, so a reload or a copied link keeps it
too. app.py reads it before st.set_page_config: the collapsed sidebar and the menu at the top are page settings.

Large type is CSS only: Streamlit sizes its type in rem, so a bigger root font grows text, labels, buttons and
metrics together. Plotly sizes its fonts in pixels, so figures ask `chart_font_size`/`chart_height` here.
"""

from __future__ import annotations

import streamlit as st

PARAM = "present"  # ?present=1 turns presenter mode on, ?present=0 off
STATE_KEY = "seqlab_present"  # st.session_state: this session's choice
SWITCH_KEY = "seqlab_present_switch"  # the toggle's widget state
ROOT_FONT_PX, NORMAL_CHART_FONT_PX, PRESENTER_CHART_FONT_PX, CHART_GROWTH = 22, 12, 18, 1.4
# the presenter's buttons -> the Home page's quick demo each one starts (seqlab/ui/home_view.py DEMOS)
QUICK_DEMOS = {"Quick text demo": "Generate Shakespeare",  # short: whole on a 1024 px projector in large type
               "Quick review demo": "Judge movie reviews"}

LARGE_TYPE = f"""<style>
html {{ font-size: {ROOT_FONT_PX}px !important; }}
[data-testid="stMainBlockContainer"] {{ max-width: 100% !important; padding-top: 4.5rem !important;
  padding-left: 2rem !important; padding-right: 2rem !important; }}  /* below the menu bar, edge to edge */
[data-testid="stWidgetLabel"] p, [data-testid="stWidgetLabel"] label {{ font-size: 1.05rem !important; }}
[data-testid="stMetricValue"] {{ font-size: 2.2rem !important; }}
[data-testid="stMetricLabel"] p {{ font-size: 1.05rem !important; }}
[data-testid="stCaptionContainer"] {{ font-size: 0.95rem !important; }}
.stButton button, .stFormSubmitButton button, .stDownloadButton button {{ min-height: 2.6rem; padding: 0.4rem 1.1rem; }}
.stButton button p, .stFormSubmitButton button p, .stDownloadButton button p {{ font-size: 1.05rem !important; }}
</style>"""


def is_on() -> bool:
    """`?present=1`/`?present=0` in the address wins (and is remembered); else this session's choice; off."""
    asked = st.query_params.get(PARAM)
    if asked in ("1", "0"):
        st.session_state[STATE_KEY] = asked == "1"
    return bool(st.session_state.get(STATE_KEY, False))


def sidebar_state() -> str:
    """st.set_page_config's initial_sidebar_state: tucked away for a presenter."""
    return "collapsed" if is_on() else "auto"


def navigation_position() -> str:
    """st.navigation's menu position: at the top while the sidebar is collapsed, so every page is one click away."""
    return "top" if is_on() else "sidebar"


def chart_font_size() -> int:
    """Plotly font size (px) for a figure on screen now: larger for a projector."""
    return PRESENTER_CHART_FONT_PX if is_on() else NORMAL_CHART_FONT_PX


def chart_height(normal: int) -> int:
    """A figure's height (px) for the current mode: taller in presenter mode, so the larger labels still fit."""
    return round(normal * CHART_GROWTH) if is_on() else normal


def _switched() -> None:
    """The toggle's callback: remember the choice, and say it in the address so a reload keeps it."""
    on = bool(st.session_state.get(SWITCH_KEY))
    st.session_state[STATE_KEY] = on
    if on:
        st.query_params[PARAM] = "1"
    elif PARAM in st.query_params:
        del st.query_params[PARAM]


def _switch(container) -> None:
    st.session_state[SWITCH_KEY] = is_on()  # follows ?present= too (set before the widget exists in this run)
    container.toggle("Presenter mode", key=SWITCH_KEY, on_change=_switched,
                     help="Large type for a projector, full-width charts, the menu at the top and the quick "
                          "demos one click away. A link with ?present=1 opens in it.")


def _quick_demo_bar() -> None:
    """The quick demos at the top of every page, started exactly as the Home page's buttons start them."""
    from seqlab.ui.home_view import DEMOS, start_demo  # only presenter mode needs the runs machinery here

    columns = st.columns(3, vertical_alignment="center")
    for column, (label, demo) in zip(columns, QUICK_DEMOS.items()):
        if column.button(label, key=f"present-demo-{demo}", type="primary", icon=":material/play_arrow:",
                         help=DEMOS[demo][2], width="stretch"):
            start_demo(demo)
    _switch(columns[-1])


def show_presenter_controls() -> None:
    """app.py calls this on every run, before the page: the switch, and in presenter mode the style, the address
    and the quick-demo bar at the top."""
    if not is_on():
        _switch(st.sidebar)
        return
    if st.query_params.get(PARAM) != "1":
        st.query_params[PARAM] = "1"  # a page's navigation dropped it: a reload must stay in presenter mode
    st.html(LARGE_TYPE)
    _quick_demo_bar()
