"""Generate page glue: options for the sampler, text streamed into one column per variation, and a look inside.

The generated text is kept in the session, so moving the "why this character?" slider or switching the colouring
does not generate again. Colouring uses Streamlit's markdown colour syntax on escaped text (no HTML).
"""

from __future__ import annotations

import re
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from seqlab.errors import SeqlabError
from seqlab.infer.sampling import MAX_SEED_CHARACTERS
from seqlab.runs import run_folder
from seqlab.ui.loaded_runs import model_checksum, sampler_for
from seqlab.ui.messages import show_error

RESULT_KEY = "seqlab_generated"
MAX_UI_LENGTH, MAX_UI_VARIATIONS, STREAM_CHUNK = 5000, 4, 16  # STREAM_CHUNK: characters per screen update
CONFIDENCE_BINS = ((0.1, "red"), (0.4, "orange"))  # probability below the bound -> that text colour
VISIBLE = {" ": "␣ (space)", "\n": "↵ (new line)", "\t": "⇥ (tab)"}
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character: markdown could act on it
_EXTRA_SPACE = re.compile(r"(?:(?<= )|^) ", re.MULTILINE)  # spaces markdown would swallow: repeats, line starts


def show_run_summary(item: dict) -> None:
    model, train, status = item["model"], item["train"], item["status"]
    best = status.get("best_val_loss")
    columns = st.columns([3, 3, 2, 2])
    columns[0].metric("Corpus", Path(train["corpus"]).name if "/" in train["corpus"] else train["corpus"])
    columns[1].metric("Cell", f"{model['cell']} · {model['num_layers']} × {model['units']}",
                      help="The recurrent cell, the number of stacked layers and the units in each.")
    columns[2].metric("Best validation loss", f"{best:.3f}" if isinstance(best, int | float) else "—",
                      help="How surprised the model was by text it never trained on (lower is better; in nats).")
    columns[3].metric("State", status["state"], help="Stopped runs use the best model saved before the stop.")


def default_seed(run_dir: Path) -> str:
    """The seed the trainer used for its samples: it starts the corpus, so every character is known."""
    samples = run_folder.read_jsonl(Path(run_dir) / run_folder.SAMPLES)
    return samples[-1].get("seed", "") if samples else ""


def generation_options(run_dir: Path) -> dict | None:
    """The options form; returns the options when Generate is pressed, else None."""
    vocabulary_size = int(run_folder.read_status(run_dir).get("vocabulary_size") or 1000)
    with st.form("seqlab_generate_options"):
        seed = st.text_area("Seed text", value=default_seed(run_dir), height=80, max_chars=MAX_SEED_CHARACTERS,
                            help="The model reads this first and continues it. Use only characters that appear in "
                                 "the training text. Leave it empty to start from a blank line.")
        first, second, third = st.columns(3)
        length = first.number_input("Characters to write", 1, MAX_UI_LENGTH, 400, step=50,
                                    help="How many new characters to add after the seed.")
        num = second.number_input("Variations", 1, MAX_UI_VARIATIONS, 1,
                                  help="Write several continuations of the same seed side by side.")
        random_seed = third.number_input("Random seed", 0, 2**31 - 1, value=None, placeholder="different each time",
                                         help="The same number gives the same text again. Leave empty for a "
                                              "new text every time.")
        temperature = first.slider("Temperature", 0.05, 2.0, 0.8, 0.05,
                                   help="How adventurous the writing is. Low (0.2–0.5): safe, repetitive, common "
                                        "words. 1: as the model learned it. High (1.2+): surprising, more spelling "
                                        "mistakes. It divides the model's scores before they become chances.")
        top_k = second.number_input("Top-k (0 = off)", 0, vocabulary_size, 0,
                                    help="Only the k likeliest next characters may be picked. 0 keeps them all.")
        top_p = third.slider("Top-p", 0.05, 1.0, 1.0, 0.05,
                             help="Only the likeliest characters that together make up this share of the chance may "
                                  "be picked (nucleus sampling). 1 keeps them all; 0.9 cuts the unlikely tail.")
        greedy = first.checkbox("Greedy (no randomness)",
                                help="Always pick the single likeliest character. Temperature, top-k and top-p are "
                                     "then ignored; greedy text tends to repeat itself.")
        if not st.form_submit_button("Generate", type="primary", icon=":material/edit_note:"):
            return None
    return dict(seed=seed.replace("\r\n", "\n"), length=int(length), temperature=float(temperature),
                top_k=int(top_k), top_p=float(top_p), greedy=greedy, num=int(num),
                random_seed=None if random_seed is None else int(random_seed))


def generate(item: dict, options: dict) -> None:
    """Stream the text into one column per variation, then keep it in the session for show_result."""
    run_dir = Path(item["path"])
    try:
        sampler = sampler_for(run_dir)
        chunks = sampler.stream(options["seed"], options["length"], temperature=options["temperature"],
                                top_k=options["top_k"], top_p=options["top_p"], greedy=options["greedy"],
                                num=options["num"], random_seed=options["random_seed"], chunk_size=STREAM_CHUNK)
    except SeqlabError as error:
        st.session_state.pop(RESULT_KEY, None)
        show_error(error)
        return
    slot = st.empty()
    num, seed = options["num"], options["seed"]
    texts, probabilities, alternatives = [""] * num, [[] for _ in range(num)], [[] for _ in range(num)]
    with slot.container():
        placeholders = [column.empty() for column in st.columns(num)]
        for chunk in chunks:
            for index, placeholder in enumerate(placeholders):
                texts[index] += chunk.texts[index]
                probabilities[index] += chunk.probabilities[index]
                alternatives[index] += chunk.alternatives[index]
                placeholder.code(seed + texts[index], language=None, wrap_lines=True)
    slot.empty()
    st.session_state[RESULT_KEY] = {"run": item["id"], "checksum": model_checksum(run_dir), "options": options,
                                    "texts": texts, "probabilities": probabilities, "alternatives": alternatives}


def current_result(item: dict) -> dict | None:
    result = st.session_state.get(RESULT_KEY)
    return result if result and result["run"] == item["id"] else None


def keep_spaces(text: str) -> str:
    """Spaces markdown would swallow become no-break spaces; one character each, so offsets still hold."""
    return _EXTRA_SPACE.sub("\u00a0", text)


def escape_punctuation(text: str) -> str:
    return _PUNCTUATION.sub(r"\\\1", text)


def escape_markdown(text: str) -> str:
    """Literal text for st.markdown: punctuation backslash-escaped, repeated and leading spaces kept."""
    return escape_punctuation(keep_spaces(text))


def confidence_colour(probability: float) -> str | None:
    return next((colour for bound, colour in CONFIDENCE_BINS if probability < bound), None)


def coloured_markdown(seed: str, text: str, probabilities: list[float]) -> str:
    """Markdown of seed + text with each generated character coloured by its probability (bins).

    Text colour, not background: Streamlit pads coloured backgrounds, which would space the letters apart.
    """
    spaced = keep_spaces(seed + text)  # on the whole text: a colour change never turns a plain space into nbsp
    colours = [None] * len(seed) + [confidence_colour(p) for p in probabilities]
    pieces = list(zip(spaced, colours))
    lines, line, run, colour = [], [], "", None

    def flush():
        if run:
            line.append(f":{colour}[{escape_punctuation(run)}]" if colour else escape_punctuation(run))

    for character, character_colour in pieces + [("\n", None)]:
        if character == "\n" or character_colour != colour:
            flush()
            run, colour = "", character_colour
        if character == "\n":
            lines.append("".join(line) or "\u00a0")
            line = []
        else:
            run += character
    return "  \n".join(lines[:-1] if lines[-1] == "\u00a0" and len(lines) > 1 else lines)


def alternatives_figure(alternatives: list[tuple[str, float]], chosen: str) -> go.Figure:
    """Bars of the likeliest next characters at one position; the one actually written is highlighted."""
    names = [VISIBLE.get(character, repr(character)[1:-1]) for character, _ in alternatives]
    colours = ["#2e7d32" if character == chosen else "#90a4ae" for character, _ in alternatives]
    figure = go.Figure(go.Bar(x=names, y=[p for _, p in alternatives], marker_color=colours,
                              text=[f"{p:.0%}" for _, p in alternatives], textposition="outside",
                              hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    figure.update_layout(yaxis=dict(title="probability", range=[0, 1.1], tickformat=".0%"),
                         xaxis=dict(title="next character", type="category"), height=320,
                         margin=dict(l=10, r=10, t=30, b=10), showlegend=False)
    return figure


def show_result(result: dict, colour: bool) -> None:
    seed, texts, num = result["options"]["seed"], result["texts"], result["options"]["num"]
    if colour:
        (low, first), (high, second) = CONFIDENCE_BINS
        st.caption(f"Colour: how likely the model thought each character it wrote was — :{first}[**below "
                   f"{low:.0%}**] (a surprise), :{second}[**{low:.0%} to {high:.0%}**], plain: {high:.0%} or more "
                   "(a likely character). The seed is not coloured.")
    for index, column in enumerate(st.columns(num)):
        with column:
            if num > 1:
                st.markdown(f"**Variation {index + 1}**")
            if colour:
                with st.container(border=True):
                    st.markdown(coloured_markdown(seed, texts[index], result["probabilities"][index]))
            else:
                st.code(seed + texts[index], language=None, wrap_lines=True)
    download = seed + texts[0] if num == 1 else "\n\n".join(
        f"--- variation {index + 1} ---\n{seed}{text}" for index, text in enumerate(texts))
    st.download_button("Download the text", download, file_name="generated.txt", mime="text/plain",
                       icon=":material/download:", help="Save the generated text as a plain .txt file.")
    explain_position(result)


def explain_position(result: dict) -> None:
    """A bar chart of the top-5 candidates at one chosen position of one variation."""
    st.subheader("Why this character?")
    st.caption("At each step the model gives every character a chance; these are the five likeliest (after "
               "temperature, top-k and top-p; with greedy, the model's raw chances). Green: the one it wrote.")
    num = result["options"]["num"]
    variation = 0
    if num > 1:
        variation = st.selectbox("Variation", range(num), format_func=lambda i: f"Variation {i + 1}",
                                 help="Which of the texts to look inside.") or 0
    text = result["texts"][variation]
    if not text:
        return
    position = 1 if len(text) == 1 else st.slider(
        "Position in the new text", 1, len(text), 1, help="1 is the first character written after the seed.")
    before = (result["options"]["seed"] + text[:position - 1])[-30:]
    chosen = text[position - 1]
    st.markdown(f"After “{escape_markdown(before)}” the model wrote **{escape_markdown(VISIBLE.get(chosen, chosen))}**")
    st.plotly_chart(alternatives_figure(result["alternatives"][variation][position - 1], chosen),
                    use_container_width=True)
