"""Score page, third tab: measure a review model on reviews it never saw, with a confusion matrix and its worst
mistakes.

What to test on is a choice, never a typed path: the built-in review corpora, the run's own corpus, or a file
the person uploads (stored like any upload, by content hash). A free-text path would let a browser read any
file on the server (its existence, size, headers and rows shown back as "mistakes").
"""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from seqlab.corpus.registry import BUILTIN_CORPORA, list_corpora
from seqlab.errors import SeqlabError
from seqlab.runs import workspaces
from seqlab.ui.loaded_runs import inference_on_cpu, model_checksum
from seqlab.ui.messages import show_error
from seqlab.ui.workspace import current_viewer

EVALUATION_KEY = "seqlab_score_evaluation"
UPLOAD = "upload"  # the choice that asks for a file
UPLOAD_TYPES = ["csv", "tsv"]
DATA_PAGE = "pages/data.py"  # where imdb-full is downloaded


@st.cache_data(max_entries=16, show_spinner=False)
def _evaluate(run_path: str, checksum: str, corpus: str, split: str, examples: int) -> dict:
    """Evaluations are slow and their answer only changes with the model file: computed once per server."""
    from seqlab.infer.evaluation import evaluate_run

    inference_on_cpu()
    return evaluate_run(Path(run_path), corpus_name=corpus, split=split, examples=examples)


def imdb_full_cached() -> bool:
    from seqlab.corpus.dataset_download import is_available

    return is_available()


def test_corpus_choices(item: dict) -> dict[str, str]:
    """value -> label: imdb-full first when it is downloaded, the run's own corpus (for its owner: a run shared
    read-only does not open its owner's uploaded reviews), the other built-in review corpora, and an upload."""
    own = str(item["train"]["corpus"])
    choices = {"imdb-full": "imdb-full — Stanford's 25,000 test reviews"} if imdb_full_cached() else {}
    if own in BUILTIN_CORPORA or workspaces.can_control(current_viewer(), item.get("workspace")):
        choices.setdefault(own, f"{Path(own).name} (the corpus this model trained on)")
    for info in list_corpora():
        if info.task == "classify" and info.name != "imdb-full":
            choices.setdefault(info.name, f"{info.name} — {info.description}")
    choices[UPLOAD] = "A file of labelled reviews I upload (.csv or .tsv)"
    return choices


def _uploaded_corpus(upload) -> str:
    """The upload, stored where the evaluation can read it; SeqlabError if there is none."""
    from seqlab.runs.launch import store_corpus_bytes

    if upload is None:
        raise SeqlabError("No file was uploaded", "a .csv or .tsv file with a text and a label column",
                          "choose the file above, then press Evaluate")
    return str(store_corpus_bytes(upload.getvalue(), Path(upload.name).suffix, viewer=current_viewer()))


def confusion_figure(confusion: dict) -> go.Figure:
    """Counts of true class (rows) against predicted class (columns), as a heatmap with the numbers written in."""
    labels, matrix = confusion["labels"], confusion["matrix"]
    figure = go.Figure(go.Heatmap(z=matrix, x=[f"predicted {name}" for name in labels],
                                  y=[f"truly {name}" for name in labels], colorscale="Blues", showscale=False,
                                  text=[[f"{value:,}" for value in row] for row in matrix], texttemplate="%{text}",
                                  textfont={"size": 18}, hovertemplate="%{y}, %{x}: %{z:,}<extra></extra>"))
    figure.update_layout(height=320, margin=dict(l=10, r=10, t=10, b=10), yaxis=dict(autorange="reversed"))
    return figure


def evaluate(item: dict) -> None:
    choices = test_corpus_choices(item)
    if "imdb-full" not in choices:  # the fairest test set is one click away, not a terminal command
        from seqlab.ui.loaded_runs import link_to_page

        link_to_page(DATA_PAGE, "Get Stanford's 25,000 test reviews (imdb-full, 84 MB) on the Data page: "
                     "choose Built-in → imdb-full → Download", icon=":material/download:")
    with st.form("seqlab_evaluate_form"):
        left, middle, right = st.columns([3, 1, 1])
        corpus = left.selectbox("Reviews to test on", list(choices), format_func=choices.get,
                                help="imdb-full is Stanford's set with 25,000 test reviews no model here trained "
                                     "on (download it on the Data page). Or the corpus this model learned from, "
                                     "another built-in one, or your own labelled file.")
        split = middle.selectbox("Part", ["test", "validation", "all"], index=0 if "imdb-full" in choices else 1,
                                 help="test: the corpus's own test set (imdb-full has one). validation: the 10% "
                                      "of the corpus held out from training. all: every review.")
        examples = right.number_input("Mistakes to show", 0, 50, 10,
                                      help="The reviews the model got wrong while being most sure of itself.")
        upload = st.file_uploader("Your file (when you chose to upload one)", type=UPLOAD_TYPES)
        pressed = st.form_submit_button("Evaluate", type="primary", icon=":material/fact_check:")
    if pressed:
        with st.status("Evaluating… this can take a minute for 25,000 reviews.", expanded=False) as status:
            try:
                chosen = _uploaded_corpus(upload) if corpus == UPLOAD else corpus
                result = _evaluate(item["path"], model_checksum(Path(item["path"])), chosen, split, int(examples))
            except SeqlabError as error:
                status.update(label="The evaluation could not run.", state="error")
                st.session_state.pop(EVALUATION_KEY, None)
                show_error(error)
                return
            status.update(label=f"Evaluated on {result.get('reviews', 0):,} reviews.", state="complete")
        st.session_state[EVALUATION_KEY] = {"run": item["id"], "result": result}
    stored = st.session_state.get(EVALUATION_KEY)
    if stored and stored["run"] == item["id"]:
        show_evaluation(stored["result"])


def show_evaluation(result: dict) -> None:
    columns = st.columns(4)
    columns[0].metric("Accuracy", f"{result['accuracy']:.1%}", help="Share of reviews judged correctly.")
    columns[1].metric("Precision", f"{result['precision']:.1%}",
                      help="Of the reviews it called positive, the share that really were.")
    columns[2].metric("Recall", f"{result['recall']:.1%}", help="Of the truly positive reviews, the share it found.")
    columns[3].metric("F1", f"{result['f1']:.3f}", help="Precision and recall in one number (their harmonic mean).")
    st.caption(f"{result.get('reviews', 0):,} reviews of {result.get('corpus', '')} ({result.get('split', '')}); "
               f"loss {result['loss']:.3f}.")
    st.plotly_chart(confusion_figure(result["confusion_matrix"]), use_container_width=True)
    mistakes = result.get("mistakes") or []
    if mistakes:
        st.markdown("**The most confident mistakes** — reviews the model got wrong while being most sure")
        st.dataframe([{"review": mistake["text"], "truly": mistake["label"],
                       "P(positive)": round(mistake["probability_positive"], 3)} for mistake in mistakes],
                     hide_index=True, use_container_width=True,
                     column_config={"review": st.column_config.TextColumn(width="large")})
