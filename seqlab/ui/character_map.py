"""Generate page, a look inside: colours on the model's own scale, and "why this character?" by clicking one.

A young model is unsure of almost every character, so a fixed scale ("red below 10%") paints its whole text red
and says nothing. The scale here is the model's own: each character is compared with the chances this model gave
the characters it wrote in this text — red marks its least expected tenth, orange the next fifth — so the colours
always point at the surprises, whatever the model's age, and the caption says what the numbers were.

The text is drawn as a Plotly figure, one point per character laid out in lines, so a click on a character picks
it (st.plotly_chart's on_select); the choice is kept under POSITION_KEY, which tests can set as a click would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from seqlab.ui.messages import plain

POSITION_KEY = "seqlab_generate_position"  # {"variation": int, "index": int}: the character clicked last
CHART_KEY = "seqlab_character_map_{}"  # one clickable text per variation
CHARACTERS_PER_LINE, LINE_HEIGHT = 80, 24  # every line is drawn, so every character can be clicked
RED_SHARE, ORANGE_SHARE = 0.1, 0.3  # the least expected tenth is red, the next fifth orange
BACKGROUNDS = {"red": "#ffcdd2", "orange": "#ffe0b2", None: "rgba(0,0,0,0.02)"}
PICKED, INK, SEED_INK = "#90caf9", "#212121", "#9e9e9e"  # the clicked character's square; text; seed
VISIBLE = {" ": "␣ (space)", "\n": "↵ (new line)", "\t": "⇥ (tab)"}


@dataclass(frozen=True)
class ConfidenceScale:
    """The model's own yardstick over one generated text: chances below `red` or `orange` get that colour."""

    red: float
    orange: float
    median: float

    def colour(self, probability: float) -> str | None:
        if probability < self.red:
            return "red"
        return "orange" if probability < self.orange else None


def confidence_scale(probabilities: list[list[float]]) -> ConfidenceScale:
    """Quantiles of the chances the model gave the characters it wrote (all variations together, so the columns
    share one scale). Strict comparisons: a model equally sure of everything colours nothing."""
    values = np.asarray([p for variation in probabilities for p in variation], dtype=float)
    if values.size == 0:
        return ConfidenceScale(0.0, 0.0, 0.0)
    red, orange, median = np.quantile(values, [RED_SHARE, ORANGE_SHARE, 0.5])
    return ConfidenceScale(float(red), float(orange), float(median))


def percent(probability: float) -> str:
    """'24%', '3.5%', '0.04%': enough digits that a young model's small chances do not all read '0%'."""
    if probability >= 0.1:
        return f"{probability:.0%}"
    return f"{probability:.1%}" if probability >= 0.001 else f"{probability:.2%}"


def scale_caption(scale: ConfidenceScale) -> str:
    """The one visible line that says what the colours mean, with this text's own numbers."""
    return (f"Colours compare each character with this model's usual confidence in this text (its typical character "
            f"had a {percent(scale.median)} chance): :red[**red**] — its least expected tenth (below "
            f"{percent(scale.red)}), :orange[**orange**] — the next fifth ({percent(scale.red)} to "
            f"{percent(scale.orange)}), plain — the rest. The seed is not coloured.")


def layout(text: str, start: int = 0) -> list[tuple[int, int]]:
    """(column, line) of each character, wrapping at new lines and every CHARACTERS_PER_LINE characters;
    `start` is the column the text begins in (after a seed)."""
    places, column, line = [], start, 0
    for character in text:
        if column >= CHARACTERS_PER_LINE:
            column, line = 0, line + 1
        places.append((column, line))
        column, line = (0, line + 1) if character == "\n" else (column + 1, line)
    return places


def _shown(character: str) -> str:
    return {"\n": "↵", "\t": "⇥", " ": " "}.get(character, character)


def character_figure(seed: str, text: str, colours: list[str | None], font_size: int = 15) -> go.Figure:
    """The seed (grey, not clickable) and the new text (one clickable square per character, tinted by colour)."""
    places = layout(seed + text)
    seed_places, text_places = places[:len(seed)], places[len(seed):]
    lines = (places[-1][1] + 1) if places else 1
    figure = go.Figure(go.Scatter(  # curve 0: the new text, so a selected point's index is its position
        x=[column for column, _ in text_places], y=[line for _, line in text_places], mode="markers+text",
        text=[_shown(character) for character in text], textfont=dict(family="monospace", size=font_size, color=INK),
        marker=dict(symbol="square", size=font_size + 4, color=[BACKGROUNDS[colour] for colour in colours]),
        customdata=[[index + 1, VISIBLE.get(character, character)] for index, character in enumerate(text)],
        hovertemplate="character %{customdata[0]}: %{customdata[1]}<extra></extra>", name="new text",
        selected=dict(marker=dict(color=PICKED)),  # a click must never fade the rest of the text
        unselected=dict(marker=dict(opacity=1), textfont=dict(color=INK))))
    if seed:
        figure.add_trace(go.Scatter(
            x=[column for column, _ in seed_places], y=[line for _, line in seed_places], mode="text",
            text=[_shown(character) for character in seed], hoverinfo="skip", name="seed",
            textfont=dict(family="monospace", size=font_size, color=SEED_INK),
            unselected=dict(textfont=dict(color=SEED_INK))))
    figure.update_layout(
        height=lines * LINE_HEIGHT * font_size // 15 + 20, margin=dict(l=0, r=0, t=10, b=10),
        showlegend=False, plot_bgcolor="rgba(0,0,0,0)", dragmode=False, hovermode="closest",
        xaxis=dict(visible=False, range=[-0.7, CHARACTERS_PER_LINE - 0.3], fixedrange=True),
        yaxis=dict(visible=False, range=[lines - 0.5, -0.5], fixedrange=True))
    return figure


def clicked_index(selection: dict, length: int) -> int | None:
    """The position (0-based) in the new text of the character a chart selection picked; None if it picked none
    of the new text (the seed, or nothing)."""
    for point in (selection or {}).get("points", []):
        index = point.get("point_index", point.get("point_number"))
        if point.get("curve_number", 0) == 0 and isinstance(index, int) and 0 <= index < length:
            return index
    return None


def _remember_click(variation: int, length: int) -> None:
    """on_select callback: keep the clicked character (the chart's own state is read-only and per variation)."""
    state = st.session_state.get(CHART_KEY.format(variation)) or {}
    index = clicked_index(state.get("selection") or {}, length)
    if index is not None:
        st.session_state[POSITION_KEY] = {"variation": variation, "index": index}


def picked(result: dict) -> tuple[int, int]:
    """(variation, index) of the character to explain: the one clicked last, else the first one written."""
    position = st.session_state.get(POSITION_KEY) or {}
    variation, index = position.get("variation", 0), position.get("index", 0)
    if not (isinstance(variation, int) and 0 <= variation < len(result["texts"])):
        variation = 0
    if not (isinstance(index, int) and 0 <= index < len(result["texts"][variation])):
        index = 0
    return variation, index


def show_clickable_text(result: dict, variation: int, scale: ConfidenceScale | None, font_size: int = 15) -> None:
    """The character map of one variation, tinted on `scale` (None: untinted), remembering the character clicked."""
    seed, text = result["options"]["seed"], result["texts"][variation]
    colours = [scale.colour(p) if scale else None for p in result["probabilities"][variation]]
    st.plotly_chart(character_figure(seed, text, colours, font_size), key=CHART_KEY.format(variation),
                    on_select=lambda: _remember_click(variation, len(text)), selection_mode="points",
                    config={"displayModeBar": False}, width="stretch")


def rank_words(alternatives: list[tuple[str, float]], chosen: str) -> str:
    """'its first choice' / 'its 3rd choice' / 'not among its five likeliest'."""
    names = [character for character, _ in alternatives]
    if chosen not in names:
        return f"not among its {len(names)} likeliest"
    rank = names.index(chosen) + 1
    return "its first choice" if rank == 1 else f"its {rank}{ {2: 'nd', 3: 'rd'}.get(rank, 'th')} choice"


def explanation_line(result: dict, variation: int, index: int) -> str:
    """'After “…to be” the model wrote **,** — a 34% chance, its first choice.' (escaped for Markdown)."""
    text = result["texts"][variation]
    chosen, probability = text[index], result["probabilities"][variation][index]
    before = (result["options"]["seed"] + text[:index])[-30:]
    rank = rank_words(result["alternatives"][variation][index], chosen)
    return (f"Character {index + 1}: after “{plain(before)}” the model wrote **{plain(VISIBLE.get(chosen, chosen))}** "
            f"— a {percent(probability)} chance, {rank}.")
