"""Inside the network page glue: a passage, what the units hold at each character, the gates, the units that follow
something in the text, what one prediction looked back at, and how far back the model looks.

The numbers come from seqlab/insight through seqlab/ui/inside_data.py (cached); the figures from
seqlab/ui/inside_charts.py. Clicking a character of the passage (the Generate page's clickable text,
seqlab/ui/character_map.py) keeps its position under POSITION_KEY, which a test can set as a click would. Every
chart has one visible line that says how to read it: a projector cannot show a tooltip.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st
from plotly.colors import sample_colorscale

from seqlab.errors import SeqlabError
from seqlab.insight import influence
from seqlab.insight.summary import NO_RECURRENT_MEMORY
from seqlab.report import comparison
from seqlab.ui import character_map, generate_view, inside_charts, inside_data, presenter
from seqlab.ui.loaded_runs import model_checksum, usable_runs
from seqlab.ui.messages import plain, show_error
from seqlab.ui.workspace import current_viewer

PASSAGE_KEY = "seqlab_inside_passage"  # the text area
POSITION_KEY = "seqlab_inside_position"  # int: the passage's character clicked last (its prediction is explained)
LAYER_KEY, STATE_KEY, UNITS_KEY = "seqlab_inside_layer", "seqlab_inside_state", "seqlab_inside_units"
START_KEY, UNIT_KEY, COMPARE_KEY = "seqlab_inside_start", "seqlab_inside_unit", "seqlab_inside_compare"
CHART_KEY = "seqlab_inside_text_map"
WINDOW, STRIP_WINDOW, MAX_COMPARED = 60, 80, 3  # characters per heatmap view and per strip; runs overlaid
NO_GATES = ("A SimpleRNN has no gates: at every character it mixes all of its old state with the new character, "
            "so it cannot choose to keep something for later — which is why it forgets quickly.")
STATES = {"hidden": "What it passes on (output)", "memory": "Its memory (LSTM cell state)"}


def show_page(item: dict) -> None:
    """Everything below the run picker, for one generate run."""
    if item["model"].get("cell") == "transformer":
        st.info(NO_RECURRENT_MEMORY + " Pick an LSTM, GRU or SimpleRNN run above to look inside one; the Generate "
                "page still writes with this one.", icon=":material/info:")
        return
    run_dir = Path(item["path"])
    try:
        models = inside_data.loaded(run_dir)
    except SeqlabError as error:
        show_error(error)
        return
    checksum, vocabulary = model_checksum(run_dir), models[0].vocabulary
    start = inside_data.corpus_start(str(item["train"]["corpus"])) or generate_view.default_seed(run_dir)
    text = passage_input(item, inside_data.default_passage(vocabulary, start))
    unknown = vocabulary.unknown_characters(text) if text else []
    if not text or unknown:
        (st.warning(plain(inside_data.unknown_message(unknown))) if unknown else
         st.info("Type or paste a passage above to look inside the model."))
        return
    try:
        found = inside_data.look(models, checksum, text)
    except SeqlabError as error:
        show_error(error)
        return
    show_units(found)
    show_top_units(found)
    show_influence(models, checksum, text)
    show_reach(item)


def _use(text: str) -> None:
    st.session_state[PASSAGE_KEY] = text[:inside_data.MAX_PASSAGE]
    st.session_state.pop(POSITION_KEY, None)


def passage_input(item: dict, default: str) -> str:
    """The passage to look at: a text area holding the sample passage at first; buttons to use the text the
    Generate page wrote last (when there is one) or go back to the sample."""
    st.session_state.setdefault(PASSAGE_KEY, default)
    text = st.text_area("Passage to look at", key=PASSAGE_KEY, height=150, max_chars=inside_data.MAX_PASSAGE,
                        on_change=lambda: st.session_state.pop(POSITION_KEY, None),
                        help="Any text in the style the model learned; only characters from its training text.")
    st.caption(f"Up to {inside_data.MAX_PASSAGE} characters. The model reads it one character at a time, starting "
               "from an empty memory.")
    buttons = st.container(horizontal=True)
    result = generate_view.current_result(item)
    if result is not None:
        generated = result["options"]["seed"] + result["texts"][0]
        buttons.button("Use text I generated", icon=":material/edit_note:", on_click=_use, args=(generated,),
                          help="The text the Generate page wrote last with this model (its first variation).")
    buttons.button("Back to the sample passage", icon=":material/undo:", on_click=_use, args=(default,))
    return text.replace("\r\n", "\n")


def _keep_if(key: str, allowed) -> None:
    """Forget a widget's kept value that the widget can no longer take (a shorter passage, a smaller model, another
    run's units): the widget then starts from its default instead of failing."""
    if key in st.session_state and st.session_state[key] not in allowed:
        del st.session_state[key]


def _window(text: str) -> int:
    """Where the heatmap's view of a long passage starts (a slider), 0 for a short one."""
    if len(text) <= WINDOW:
        return 0
    last = len(text) - WINDOW
    _keep_if(START_KEY, range(1, last + 2))
    start = st.slider("Characters shown", 1, last + 1, 1, step=1, key=START_KEY,
                      format="from character %d", help=f"The charts show {WINDOW} characters at a time.")
    return min(start - 1, last)


def _unit_choice(found, layer: int, state: str) -> tuple[list, int]:
    """The layer's units ranked (most telling first) and how many rows the heatmap shows (a slider)."""
    ranked = inside_data.ranked_units(found, layer, state)
    if len(ranked) <= 4:
        return ranked, len(ranked)
    _keep_if(UNITS_KEY, range(4, min(64, len(ranked)) + 1))
    count = st.slider("Units shown", 4, min(64, len(ranked)), min(12, len(ranked)), key=UNITS_KEY,
                      help="The units that follow a feature of the text most closely come first.")
    return ranked, count


def show_units(found) -> None:
    """(a) the heatmap of units by characters and (b) the gates, for one layer."""
    st.subheader("What the units hold")
    layers = found.trace.layers
    many, lstm = len(layers) > 1, any(layer.memory is not None for layer in layers)
    columns = iter(st.columns([1] * many + [2] * lstm + [2, 3], gap="medium"))
    _keep_if(LAYER_KEY, range(len(layers)))
    layer = 0 if not many else next(columns).selectbox(
        "Layer", range(len(layers)), format_func=lambda index: f"Layer {index + 1}", key=LAYER_KEY)
    state = "hidden" if not lstm else next(columns).radio(
        "Values", list(STATES), format_func=STATES.get, key=STATE_KEY,
        help="An LSTM keeps a memory (the cell state) and shows part of it as its output at each character.")
    if layers[layer].memory is None:
        state = "hidden"
    with next(columns):
        ranked, count = _unit_choice(found, layer, state)
    with next(columns):
        start = _window(found.text)
    shown = found.text[start:start + WINDOW]
    rows = ranked[:count]
    every = inside_data.unit_values(found, layer, state)[:, [unit for unit, _, _ in rows]]
    names = [f"unit {unit + 1} · {feature}" for unit, feature, _ in rows]
    figure = inside_charts.activation_heatmap(shown, every[start:start + len(shown)].T, names, start,
                                              presenter.chart_font_size(), inside_charts.unit_scale(every))
    st.plotly_chart(figure, config={"displayModeBar": False}, width="stretch")
    st.caption("Each row is one unit, each column a character of the passage (␣ a space, ↵ a new line). Red: the "
               "unit is strongly positive after reading that character, blue: strongly negative, white: near zero. "
               "Rows are sorted: the units that follow a feature of the text most closely (named beside them) "
               "come first." + (" A memory can grow past ±1: such a row is drawn on its own scale (point at a "
                                "cell for its value)." if state == "memory" else ""))
    show_gates(found, layer, rows, start, shown)


def show_gates(found, layer: int, rows: list, start: int, shown: str) -> None:
    trace_layer = found.trace.layers[layer]
    st.markdown("**The gates: what it keeps, writes and shows**" if trace_layer.cell == "lstm" else
                "**The gates: what it keeps and uses**" if trace_layer.cell == "gru" else "**The gates**")
    if not trace_layer.gates:
        st.info(NO_GATES, icon=":material/info:")
        return
    units = [unit for unit, _, _ in rows]
    _keep_if(UNIT_KEY, units)
    unit = st.columns([1, 2])[0].selectbox("Unit to follow", units, key=UNIT_KEY, format_func=lambda u: next(
        f"unit {u + 1} (follows “{feature}”)" for v, feature, _ in rows if v == u),
                        help="Its gates are drawn in pink over the average of all units.")
    gates = {name: values[start:start + len(shown)] for name, values in trace_layer.gates.items()}
    st.plotly_chart(inside_charts.gates_figure(shown, gates, unit, start, presenter.chart_font_size()),
                    config={"displayModeBar": False}, width="stretch")
    st.caption("Each gate is a share from 0% to 100% at every character: near 100% “keeps” means the old memory "
               "is kept almost whole; a dip means the unit forgets there. Grey: the average over all units; pink: "
               "the unit chosen above.")


def show_top_units(found) -> None:
    """(c) the units that follow a simple feature of the text, each over the stretch where its feature varies."""
    st.subheader("Units that follow something in the text")
    st.caption("Each unit is compared with simple features of the passage: inside quotes or brackets, position in "
               "the line, just after a new line, vowel, between words. r near +1 (or −1) means the unit rises (or "
               "falls) where the feature holds — compare its row with the yellow one. A hint, not proof: try a "
               "longer passage to confirm it.")
    if not found.top:
        st.info("No unit moves with any of the features in this passage: try a longer or more varied one.")
    font = presenter.chart_font_size()
    for entry in found.top:
        feature = found.features[entry["feature"]]
        start = inside_charts.telling_window(feature, WINDOW)
        values = inside_data.unit_values(found, entry["layer"], entry["state"])[:, entry["unit"]]
        st.markdown(plain(entry["text"].replace(" unit ", " · unit ")))
        name = f"unit {entry['unit'] + 1}" + (" memory" if entry["state"] == "memory" else "")
        st.plotly_chart(inside_charts.unit_strip(found.text[start:start + WINDOW], values[start:start + WINDOW],
                                                 feature[start:start + WINDOW], name, entry["feature"], start, font,
                                                 float(inside_charts.unit_scale(values[:, None])[0])),
                        config={"displayModeBar": False}, width="stretch")


def clicked_position(text: str) -> int:
    """The character whose prediction is explained: the one clicked last, else the last one (never the first,
    which no earlier character predicts)."""
    position = st.session_state.get(POSITION_KEY)
    if not (isinstance(position, int) and 1 <= position < len(text)):
        position = len(text) - 1
    return position


def _remember_click(length: int) -> None:
    state = st.session_state.get(CHART_KEY) or {}
    index = character_map.clicked_index(state.get("selection") or {}, length)
    if index is not None and index >= 1:
        st.session_state[POSITION_KEY] = index


@st.fragment
def show_influence(models, checksum: str, text: str) -> None:
    """(d) the passage, clickable and tinted by what the clicked character's prediction looked back at, then the
    heat strip with its distance axis and one sentence. A fragment: a click reruns this section alone."""
    st.subheader("What a prediction looked back at")
    if len(text) < 2:
        st.info("Type at least two characters: one to read and one to predict.")
        return
    position = clicked_position(text)
    try:
        values = inside_data.influence_before(models, checksum, text[:position + 1])
    except SeqlabError as error:
        show_error(error)
        return
    st.caption("Click any character of the passage: the colours then show how strongly each earlier character "
               "swayed the model's chance for it (the size of the gradient). Blue: the character clicked.")
    figure = character_map.character_figure("", text, [None] * len(text), 15 + 3 * presenter.is_on())
    shares = inside_charts.influence_shares(values)
    top = shares.max() if shares.size and shares.max() > 0 else 1.0
    colours = sample_colorscale(inside_charts.INFLUENCE_SCALE, list(shares / top)) if shares.size else []
    colours += [inside_charts.INFLUENCE_SCALE[0][1]] * (len(text) - len(colours))
    colours[position] = character_map.PICKED
    figure.data[0].marker.color = colours
    st.plotly_chart(figure, key=CHART_KEY, on_select=lambda: _remember_click(len(text)), selection_mode="points",
                    config={"displayModeBar": False}, width="stretch")
    chance = inside_data.look(models, checksum, text).trace.next_probability[position - 1]
    st.markdown(f"**Character {position + 1}: {plain(inside_charts.spoken(text[position]))}** — the model gave it "
                f"a {character_map.percent(float(chance))} chance after the "
                f"{position:,} character{'s' if position != 1 else ''} before it. "
                + plain(inside_charts.reach_sentence(values)))
    st.plotly_chart(inside_charts.influence_strip(text[:position], values, STRIP_WINDOW, presenter.chart_font_size()),
                    config={"displayModeBar": False}, width="stretch")
    st.caption(f"The characters before the one clicked (up to {STRIP_WINDOW}), nearest on the right; the darker, "
               "the more that character changed the prediction. The axis counts how many characters back it is.")


def show_reach(item: dict) -> None:
    """(e) influence by distance for this run, with other text runs of the workspace overlaid on request."""
    st.subheader("How far back it looks")
    others = [other for other in usable_runs("generate", current_viewer())
              if other["id"] != item["id"] and other["model"].get("cell") != "transformer"]  # (no recurrent reach)
    labels = comparison.run_labels([item, *others])
    if COMPARE_KEY not in st.session_state:  # at first, the newest run of another cell type, side by side
        st.session_state[COMPARE_KEY] = [other["id"] for other in others
                                         if other["model"]["cell"] != item["model"]["cell"]][:1]
    st.session_state[COMPARE_KEY] = [run_id for run_id in st.session_state[COMPARE_KEY] if run_id in labels]
    chosen = st.multiselect("Compare with", [other["id"] for other in others], key=COMPARE_KEY,
                            format_func=labels.get, max_selections=MAX_COMPARED, disabled=not others,
                            placeholder="other text runs" if others else "no other text run yet",
                            help="Overlay other text models, e.g. a SimpleRNN beside an LSTM.")
    curves, sentences = {}, []
    for run in [item, *[other for other in others if other["id"] in chosen]]:
        try:
            reach = inside_data.reach_for(run)
        except SeqlabError as error:
            show_error(error)
            continue
        curves[labels[run["id"]]] = (np.asarray(reach["distances"]) + 1, np.asarray(reach["share"]))
        nine_tenths = influence.reach(reach["share"], 0.9)
        sentences.append(f"{labels[run['id']]}: half of what it uses comes from the last {reach['reach']} "
                         f"characters, nine tenths from the last {nine_tenths} (measured on {reach['windows']} "
                         f"stretches of {reach['source']}).")
    if curves:
        st.plotly_chart(inside_charts.reach_figure(curves, presenter.chart_font_size(), presenter.chart_height(380)),
                        config={"displayModeBar": False}, width="stretch")
        st.caption("Over many predictions: how much of what decided them came from within the last 1, 2, 5 … "
                   "characters. A model with a short reach (often a SimpleRNN) gets to 100% within a few characters; "
                   "one that looks further back (an LSTM) climbs more slowly. Where a line crosses “half”: its reach.")
        for sentence in sentences:
            st.markdown("- " + plain(sentence))
