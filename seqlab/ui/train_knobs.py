"""The Train page's knobs: one widget per config field, each with a plain-words explanation.

Widgets show and set the values the presets fill (see `train_view.bind`); limits mirror
`seqlab.config`'s validation, so the widgets cannot produce a value the config would refuse.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

CELL_LABELS = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
CLIP_LABELS = {"none": "Off", "norm": "Limit the overall gradient size (norm)", "value": "Limit each gradient value"}
STOP_LABELS = {"time": "a time budget", "epochs": "a number of epochs"}
SCHEDULE_LABELS = {"constant": "Constant", "cosine": "Cosine: slow down towards the end"}
POOLING_LABELS = {"last": "The state after the last word", "max_mean": "Strongest and average signal over all words"}
PRECISION_LABELS = {"auto": "Automatic (bfloat16 where this CPU is fast at it)", "float32": "float32 (any machine)",
                    "bfloat16": "bfloat16 (faster on recent CPUs)"}


def knob_widgets(task: str, bind: Callable[[str], dict]) -> None:
    """Model and training settings, plus an Advanced expander with the rest of TrainConfig.

    `bind(field)` gives a widget its key and the callback that keeps the field's value across pages.
    """
    model_column, train_column = st.columns(2)
    with model_column:
        st.markdown("**The model**")
        st.selectbox("Cell type", list(CELL_LABELS), format_func=CELL_LABELS.get, **bind("cell"),
                     help="The recurrent unit that reads one character (or word) at a time. SimpleRNN is the "
                          "plainest and forgets quickly; LSTM and GRU have gates that help them remember longer.")
        st.slider("Layers", 1, 4, **bind("num_layers"),
                  help="Recurrent layers stacked on top of each other. More layers can learn more abstract "
                       "patterns but train slower.")
        st.number_input("Units per layer", 4, 2048, step=16, **bind("units"),
                        help="The size of the model's memory. Bigger remembers more but is slower.")
        st.number_input("Embedding size", 2, 1024, step=16, **bind("embedding_dim"),
                        help="How many numbers describe each character (or word) on the way in.")
        st.slider("Dropout", 0.0, 0.8, step=0.05, **bind("dropout"),
                  help="Randomly hides this share of signals while training, so the model cannot just memorise. "
                       "0 is off; 0.1–0.3 helps big models on small corpora.")
        st.slider("Memory dropout", 0.0, 0.8, step=0.05, **bind("weight_dropout"),
                  help="Randomly cuts this share of the connections inside the recurrent memory for each batch "
                       "(the same cuts at every step of a sequence), so the memory cannot lean on any single "
                       "connection. Costs no speed; 0.2–0.3 keeps a big model from memorising a small corpus on "
                       "long runs.")
        if task == "classify":
            st.checkbox("Read reviews in both directions (bidirectional)", **bind("bidirectional"),
                        help="A second layer reads each review backwards; often a little more accurate, twice "
                             "the work.")
            st.selectbox("Verdict from", list(POOLING_LABELS), format_func=POOLING_LABELS.get, **bind("pooling"),
                         help="What the final layer looks at. The last state must carry the whole review in its "
                              "memory; the strongest and average signal over all words also keep what was said "
                              "early — usually more accurate on long reviews.")
            st.number_input("Words to know", 100, 200_000, step=1000, **bind("vocabulary_size"),
                            help="The most frequent words get their own entry; rarer words are treated as unknown.")
            st.number_input("Word-pair slots (0 = off)", 0, 1_000_000, step=16_384, **bind("word_pairs"),
                            help="A second reader beside the recurrent one: it learns a small vector for each word "
                                 "and each pair of neighbouring words (\"not good\", \"must see\"), averages them "
                                 "over the review and gives its own verdict; the model's verdict is the mean of the "
                                 "two. Pairs share this many slots. 0 turns it off, leaving only the recurrent cell "
                                 "to compare; 262,144 added about a point of IMDb test accuracy.")
    with train_column:
        st.markdown("**The training**")
        unit = "characters" if task == "generate" else "words"
        st.number_input(f"Sequence length ({unit})", 2, 2000, step=10, **bind("sequence_length"),
                        help="Generation: how many characters the model reads before each prediction is scored. "
                             "Sentiment: how many words of each review are kept (longer ones are cut).")
        st.number_input("Batch size", 1, 4096, step=8, **bind("batch_size"),
                        help="How many sequences the model sees before each adjustment of its weights.")
        rule = st.radio("Stop after", list(STOP_LABELS), format_func=STOP_LABELS.get, **bind("stop_rule"),
                        horizontal=True, help="A time budget keeps runs predictable; epochs are full passes "
                                              "over the corpus.")
        if rule == "time":
            st.number_input("Time budget (seconds)", 10.0, 7 * 24 * 3600.0, step=30.0, **bind("time_budget_seconds"),
                            help="Training stops after this much training time and keeps the best model.")
        else:
            st.number_input("Epochs", 1, 10_000, **bind("epochs"),
                            help="How many times the model goes through the whole corpus.")
        st.number_input("Learning rate", 0.0001, 1.0, step=0.0005, format="%.4f", **bind("learning_rate"),
                        help="How big each adjustment is. Too high and the loss jumps around or blows up; too "
                             "low and learning crawls. 0.002–0.004 suits most runs here.")
        st.selectbox("Learning-rate schedule", list(SCHEDULE_LABELS), format_func=SCHEDULE_LABELS.get,
                     **bind("learning_rate_schedule"),
                     help="Cosine lowers the learning rate smoothly to 5% of it by the end of the run (its time "
                          "budget or its steps); the small last steps settle the model into a lower loss.")
        clip = st.selectbox("Gradient clipping", list(CLIP_LABELS), format_func=CLIP_LABELS.get, **bind("clip"),
                            help="Caps how far one step may move the weights, which stops the sudden blow-ups "
                                 "recurrent models are prone to.")
        st.number_input("Clipping threshold", 0.01, 100.0, step=0.1, format="%.2f", **bind("clip_threshold"),
                        disabled=clip == "none",
                        help="The largest gradient size (norm) or value allowed; 1.0 is a common choice.")
    with st.expander("Advanced"):
        st.number_input("Step cap (0 = no cap)", 0, 10_000_000, step=10, **bind("max_steps"),
                        help="Stop after this many steps whatever else is set; handy for a quick try.")
        st.selectbox("Number precision", list(PRECISION_LABELS), format_func=PRECISION_LABELS.get,
                     **bind("precision"),
                     help="bfloat16 does the big multiplications with half the bits (weights stay float32): about "
                          "1.5–2× faster on CPUs with AVX-512 BF16 or AMX, slower on others.")
        st.number_input("Average the weights over the last … steps (0 = off)", 0, 1_000_000, step=50,
                        **bind("weight_average_steps"),
                        help="Validates and keeps an average of the weights over about this many recent steps "
                             "instead of the last step's weights, which jitter around the best point; the average "
                             "usually sits a little lower. Training itself is unchanged.")
        st.number_input("Random seed", 0, 2**31 - 1, **bind("seed"),
                        help="The same seed and settings give the same starting weights and data order.")
        if task == "classify":
            st.text_input("Text column (empty = detect)", **bind("text_column"),
                          help="For your own .csv/.tsv: the column holding the review text.")
            st.text_input("Label column (empty = detect)", **bind("label_column"),
                          help="For your own .csv/.tsv: the column holding positive/negative (or stars).")
