"""Score reviews: a trained sentiment model judges reviews and says which words swayed it."""

import streamlit as st

from seqlab.ui.evaluate_view import evaluate
from seqlab.ui.loaded_runs import choose_run
from seqlab.ui.routing import require_router
from seqlab.ui.score_view import score_file, score_review, show_run_summary

require_router()
st.title("Score reviews")
st.caption("A trained model reads a review and gives the chance that it is positive. Try one review, a whole "
           "file, or measure the model on reviews it never saw.")
item = choose_run("classify")
if item is not None:
    show_run_summary(item)
    one, many, test = st.tabs(["One review", "A file of reviews", "Evaluate on a test set"])
    with one:
        score_review(item)
    with many:
        score_file(item)
    with test:
        evaluate(item)
