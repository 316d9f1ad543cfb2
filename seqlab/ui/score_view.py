"""Score page glue: one review with a gauge and coloured words, a file of reviews, and an evaluation on a test set.

Scoring code lives in seqlab.infer.scoring and seqlab.infer.evaluation; this module only lays results out.
Word colours use
Streamlit's markdown colour syntax on escaped text (no HTML).
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from seqlab.errors import SeqlabError
from seqlab.infer.scoring import MAX_EXPLAINED_CHARACTERS
from seqlab.report.plain_words import model_shape
from seqlab.runs.names import run_name
from seqlab.ui.generate_view import escape_punctuation, keep_spaces
from seqlab.ui.loaded_runs import scorer_for
from seqlab.ui.messages import plain, show_error

REVIEW_KEY, FILE_KEY = "seqlab_score_review", "seqlab_score_file"
EXAMPLE_REVIEW = ("A wonderful film: the acting is superb and the story kept me gripped to the end. "
                  "The music was a little dull, but I would happily watch it again.")
MAX_EXPLAINED_WORDS = 400
STRONG, WEAK = 0.05, 0.01  # |contribution| in probability points: strong and weak colouring
SHOWN_ROWS = 1000  # rows of a scored file shown in the table (the download has them all)
ATTENTION_VERSUS_EFFECT = ("Attention and the word colours are different things: attention is where the model "
                           "looked (its weights over the words add up to 100 %); the colours, leave-one-out, are "
                           "what changed its verdict. A word can draw much attention and change little.")


def show_run_summary(item: dict) -> None:
    """The run's name, shape and corpus on one line (text is never cut, as a metric's value is: a long
    'bidirectional LSTM · 2 layers × 256 units' reads whole), then accuracy first (a review model's plain figure)."""
    model, train, status = item["model"], item["train"], item["status"]
    accuracy = status.get("best_val_accuracy")
    corpus = Path(train["corpus"]).name if "/" in train["corpus"] else train["corpus"]
    st.markdown(f"**{plain(run_name(Path(item['path'])))}** · {plain(model_shape(model))} · trained on "
                f"{plain(corpus)}", help=f"Run id: {item['id']}")
    columns = st.columns(2)
    columns[0].metric("Reviews right", f"{accuracy:.1%}" if isinstance(accuracy, int | float) else "—",
                      help="Share of held-out reviews (never trained on) the best model judged correctly.")
    columns[1].metric("State", status["state"], help="Stopped runs use the best model saved before the stop.")


def gauge_figure(probability: float) -> go.Figure:
    """P(positive) as a 0–100 % gauge: red half negative, green half positive."""
    colour = "#2e7d32" if probability > 0.5 else "#c62828"
    figure = go.Figure(go.Indicator(
        mode="gauge+number", value=100 * probability, number={"suffix": " %", "valueformat": ".1f"},
        title={"text": "chance it is positive", "font": {"size": 15}},  # fits the narrow column at 1024 px
        gauge={"axis": {"range": [0, 100], "ticksuffix": " %"}, "bar": {"color": colour, "thickness": 0.3},
               "steps": [{"range": [0, 50], "color": "rgba(198, 40, 40, 0.18)"},
                         {"range": [50, 100], "color": "rgba(46, 125, 50, 0.18)"}],
               "threshold": {"line": {"color": "gray", "width": 3}, "thickness": 0.8, "value": 50}}))
    figure.update_layout(height=260, margin=dict(l=40, r=50, t=60, b=10))
    return figure


def contribution_markup(word: str, contribution: float) -> str:
    """The word in markdown colour directives: coloured text for weak effects, on a tinted background if strong."""
    if abs(contribution) < WEAK:
        return word
    colour = "green" if contribution > 0 else "red"
    return f":{colour}-background[:{colour}[{word}]]" if abs(contribution) >= STRONG else f":{colour}[{word}]"


def coloured_review(text: str, contributions: list) -> str:
    """The original text with each explained word wrapped in its colour (offsets index the original text)."""
    spaced, pieces, position = keep_spaces(text), [], 0
    for item in sorted(contributions, key=lambda item: item.start):
        if item.start < position:
            continue
        pieces.append(escape_punctuation(spaced[position:item.start]))
        pieces.append(contribution_markup(escape_punctuation(spaced[item.start:item.end]), item.contribution))
        position = item.end
    pieces.append(escape_punctuation(spaced[position:]))
    return "".join(pieces).replace("\n", "  \n")


def score_review(item: dict) -> None:
    with st.form("seqlab_score_review_form"):
        text = st.text_area("Review", value=EXAMPLE_REVIEW, height=150, max_chars=MAX_EXPLAINED_CHARACTERS,
                            help="Any review in English. The model was trained on movie reviews, so those "
                                 "work best.")
        pressed = st.form_submit_button("Score the review", type="primary", icon=":material/reviews:")
    if pressed:
        try:
            with st.spinner("Reading the review word by word…"):
                probability, contributions = scorer_for(Path(item["path"])).word_contributions(
                    text, max_words=MAX_EXPLAINED_WORDS)
        except SeqlabError as error:
            st.session_state.pop(REVIEW_KEY, None)
            show_error(error)
            return
        st.session_state[REVIEW_KEY] = {"run": item["id"], "text": text, "probability": float(probability),
                                        "contributions": contributions}
    result = st.session_state.get(REVIEW_KEY)
    if not result or result["run"] != item["id"]:
        return
    probability = result["probability"]
    left, right = st.columns([2, 3])
    with left:
        st.plotly_chart(gauge_figure(probability), use_container_width=True)
        verdict = "Positive" if probability > 0.5 else "Negative"  # as seqlab.infer.scoring.verdict
        st.markdown(f"**{verdict}** — P(positive) = {probability:.3f}")
    with right:
        legend = ", ".join(contribution_markup(name, value) for name, value in (
            ("strongly positive", 1), ("positive", WEAK), ("plain: little effect", 0), ("negative", -WEAK),
            ("strongly negative", -1)))
        st.caption(f"Word colours: {legend}. Method: leave-one-out — each word's colour is how much the chance "
                   f"of 'positive' drops when that word is removed (strong: {STRONG * 100:g} percentage points or "
                   f"more, weak: {WEAK * 100:g} or more). Only the first {MAX_EXPLAINED_WORDS} words are explained.")
        with st.container(border=True):
            st.markdown(coloured_review(result["text"], result["contributions"]))
    attention = any(c.attention is not None for c in result["contributions"])
    ranked = sorted(result["contributions"], key=lambda c: abs(c.contribution), reverse=True)[:15]
    with st.expander("The words that mattered most"):
        st.dataframe([{"word": c.word, "effect on P(positive)": round(c.contribution, 4)}
                      | ({"attention": round(c.attention, 4)} if attention else {}) for c in ranked],
                     hide_index=True, use_container_width=True)
    if attention:
        show_attention(result["contributions"])


def show_attention(contributions: list) -> None:
    """An attention model's weight on each word beside the word's leave-one-out effect, in reading order."""
    st.markdown("**Where the model looked: attention**")
    st.caption(ATTENTION_VERSUS_EFFECT)
    top = max(c.attention for c in contributions)
    st.dataframe([{"word": c.word, "attention": 100 * c.attention, "effect on P(positive)": round(c.contribution, 4)}
                  for c in contributions], hide_index=True, use_container_width=True, column_config={
        "attention": st.column_config.ProgressColumn("attention", format="%.1f %%", min_value=0.0,
                                                     max_value=max(100 * top, 1e-9),
                                                     help="The share of the verdict's attention on the word: "
                                                          "all the words' shares add up to 100 %.")})


def _estimated_rows(data: bytes) -> int:
    return max(1, data.count(b"\n") - 1)  # header excluded; quoted multi-line fields make this an upper bound


def score_file(item: dict) -> None:
    upload = st.file_uploader("A .csv or .tsv file of reviews", type=["csv", "tsv"],
                              help="One review per row. The text column is found by its name (text, review, …) or "
                                   "its content; name it below if it is not found.")
    text_column = st.text_input("Text column (optional)", help="Leave empty to detect it.", max_chars=200)
    if upload is not None and st.button("Score the file", type="primary", icon=":material/table_view:"):
        suffix, data = Path(upload.name).suffix.lower(), upload.getvalue()
        bar, total = st.progress(0.0, text="Scoring…"), _estimated_rows(data)
        try:
            with tempfile.TemporaryDirectory(prefix="seqlab-score-") as folder:
                in_path, out_path = Path(folder) / f"reviews{suffix}", Path(folder) / f"scored{suffix}"
                in_path.write_bytes(data)
                from seqlab.infer.score_file import score_csv

                count = score_csv(scorer_for(Path(item["path"])), in_path, out_path,
                                  text_column=text_column.strip() or None,
                                  progress=lambda done: bar.progress(min(1.0, done / total),
                                                                     text=f"Scored {done:,} reviews…"))
                scored = out_path.read_bytes()
        except SeqlabError as error:
            bar.empty()
            st.session_state.pop(FILE_KEY, None)
            show_error(error)
            return
        bar.progress(1.0, text=f"Scored {count:,} reviews.")
        st.session_state[FILE_KEY] = {"run": item["id"], "name": Path(upload.name).stem + f"-scored{suffix}",
                                      "rows": count, "data": scored, "separator": "\t" if suffix == ".tsv" else ","}
    result = st.session_state.get(FILE_KEY)
    if not result or result["run"] != item["id"]:
        return
    import pandas as pd

    table = pd.read_csv(io.BytesIO(result["data"]), sep=result["separator"], nrows=SHOWN_ROWS,
                        keep_default_na=False)
    if result["rows"] > SHOWN_ROWS:
        st.caption(f"The first {SHOWN_ROWS:,} of {result['rows']:,} rows; the download has them all.")
    st.dataframe(table, hide_index=True, use_container_width=True)
    st.download_button("Download the scored file", result["data"], file_name=result["name"],
                       mime="text/csv", icon=":material/download:",
                       help="Your file with two more columns: probability_positive and predicted_label.")
