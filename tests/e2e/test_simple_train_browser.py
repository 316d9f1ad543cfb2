"""The Train page as a newcomer and a presenter meet it, in headless Chromium: few settings in sight, each explained
in visible words, and a shared link that opens the same form (no training: well under a minute).

Screenshots land in artifacts/e2e/ (see conftest.py).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from tests.e2e.conftest import wait_idle

WIDGETS = ", ".join(f'[data-testid="stMain"] [data-testid="{kind}"]' for kind in (
    "stSelectbox", "stRadio", "stSlider", "stNumberInput", "stCheckbox", "stTextInput"))

# every visible setting widget above "More settings": its label and the caption right under it ("" when none)
SETTINGS_IN_SIGHT = """(selector) => {
  const more = [...document.querySelectorAll('summary')].find(s => s.innerText.includes('More settings'));
  const limit = more.getBoundingClientRect().top;
  return [...document.querySelectorAll(selector)]
    .filter(w => w.offsetParent !== null && w.getBoundingClientRect().bottom <= limit)
    .map(w => {
      const next = w.closest('[data-testid="stElementContainer"]').nextElementSibling;
      const caption = next && next.querySelector('[data-testid="stCaptionContainer"]');
      return [w.innerText.split('\\n')[0], caption ? caption.innerText : ''];
    });
}"""


def open_train(page, address: str) -> None:
    page.goto(address)
    page.get_by_text("Copy link to this experiment").first.wait_for(timeout=60_000)
    wait_idle(page)
    for widget in (page.get_by_role("radio").first, page.get_by_role("combobox", name="Gradient clipping"),
                   page.get_by_label("Units per layer", exact=True), page.get_by_test_id("stCode").last):
        widget.wait_for(state="visible")  # a fresh page fetches each kind of widget's code first (grey boxes)


def test_the_train_page_shows_few_settings_each_with_a_caption(app_server, browser_page, artifacts):
    url, _ = app_server
    page = browser_page
    open_train(page, f"{url}/train")
    page.screenshot(path=artifacts / "simple-train.png", full_page=True)
    shown = page.evaluate(SETTINGS_IN_SIGHT, WIDGETS)
    assert [label for label, _ in shown] == ["What should the model learn?", "Corpus", "Preset", "Cell type", "Layers",
                                             "Units per layer", "Sequence length (characters)", "Gradient clipping"]
    for label, caption in shown:
        assert len(caption) > 20, f"{label} has no caption under it"
    assert "how far back learning can reach" in dict(shown)["Sequence length (characters)"]
    assert not page.get_by_text("Memory dropout").first.is_visible()  # folded away until asked for
    page.get_by_text("More settings").first.click()
    page.get_by_text("Memory dropout").first.wait_for(state="visible")


def _values(page) -> dict:
    main = page.get_by_test_id("stMain")
    return {"task": main.get_by_role("radio", name="Tell positive from negative reviews").is_checked(),
            "preset": main.get_by_role("radio", name="Balanced (≈ 3 min)").is_checked(),
            "cell": main.get_by_role("combobox", name="Cell type", exact=True).input_value(),
            "units": main.get_by_label("Units per layer", exact=True).input_value(),
            "clip": main.get_by_role("combobox", name="Gradient clipping", exact=True).input_value()}


def test_a_shared_link_reproduces_the_form(app_server, browser_page, artifacts):
    url, _ = app_server
    page = browser_page
    open_train(page, f"{url}/train?task=classify&preset=balanced&cell=lstm&units=96&clip=value")
    page.screenshot(path=artifacts / "shared-link.png", full_page=True)
    values = _values(page)
    assert values["task"] and values["preset"] and values["units"] == "96"
    assert (values["cell"], values["clip"]) == ("LSTM", "Limit each gradient value")
    link = page.get_by_test_id("stCode").last.inner_text().strip()
    assert link.startswith(f"{url}/train?")
    query = dict(parse_qsl(urlsplit(link).query))
    assert query == {"task": "classify", "corpus": "imdb", "preset": "balanced", "cell": "lstm", "units": "96",
                     "clip": "value"}
    assert dict(parse_qsl(urlsplit(page.url).query)) == query  # the address bar is the same link
    open_train(page, link)  # the page's own link, opened afresh, gives the same form and the same link
    assert _values(page) == values and page.get_by_test_id("stCode").last.inner_text().strip() == link
