"""Generate page glue: options for the sampler, text streamed into one column per variation, and a look inside.

The generated text is kept in the session, so clicking a character to ask "why this character?" or switching the
colouring does not generate again. Colouring uses Streamlit's markdown colour syntax on escaped text (no HTML), on
the model's own scale (seqlab/ui/character_map.py). Every sampling option says what it does in a visible line: a
projector or a touch screen cannot show a tooltip.
"""

from __future__ import annotations

import re
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from seqlab.errors import SeqlabError
from seqlab.infer.sampling import MAX_SEED_CHARACTERS
from seqlab.report.plain_words import model_shape, perplexity, quality_sentence
from seqlab.runs import run_folder
from seqlab.runs.names import run_name
from seqlab.ui import character_map, presenter
from seqlab.ui.character_map import VISIBLE, confidence_scale, scale_caption
from seqlab.ui.loaded_runs import model_checksum, sampler_for
from seqlab.ui.messages import plain, show_error

RESULT_KEY = "seqlab_generated"
MAX_UI_LENGTH, MAX_UI_VARIATIONS, STREAM_CHUNK = 5000, 4, 16  # STREAM_CHUNK: characters per screen update
TOP_K_LABEL, TOP_P_LABEL = "Pick among the k likeliest (0 = all)", "Pick among the likeliest share (top-p)"
# One visible line per way of picking the next character (the settings' own names stay in the lines).
COLOUR_HELP = ("Shade each written character against this model's usual confidence in this text: red marks its "
               "least expected tenth, orange the next fifth.")  # for the page's colouring switch
EXPLAINED = {
    "temperature": "Temperature: low (0.2–0.5) writes safe, repetitive text; 1 writes as the model learned; "
                   "high (1.2+) surprises, with more spelling mistakes.",
    "top_k": "Top-k: only the k likeliest next characters can be picked; 0 lets every character in.",
    "top_p": "Top-p: only the likeliest characters that together hold this share of the chance can be picked; "
             "1 lets every character in, 0.9 drops the unlikely tail.",
    "greedy": "Greedy: always write the single likeliest character — no chance, no temperature, top-k or top-p; "
              "greedy text often repeats itself.",
}
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character: markdown could act on it
_EXTRA_SPACE = re.compile(r"(?:(?<= )|^) ", re.MULTILINE)  # spaces markdown would swallow: repeats, line starts


def show_run_summary(item: dict) -> None:
    """The run's name, shape and corpus on one line (text is never cut, as a metric's value is), then how good it is
    in plain numbers: how often it guesses right and how unsure it is (never a loss in nats)."""
    model, train, status = item["model"], item["train"], item["status"]
    loss, accuracy = status.get("best_val_loss"), status.get("best_val_accuracy")
    corpus = Path(train["corpus"]).name if "/" in train["corpus"] else train["corpus"]
    st.markdown(f"**{plain(run_name(Path(item['path'])))}** · {plain(model_shape(model))} · trained on "
                f"{plain(corpus)} · {status['state']}", help=f"Run id: {item['id']}. Stopped runs use the best "
                                                            "model saved before the stop.")
    choices = perplexity(loss) if isinstance(loss, int | float) else None
    columns = st.columns(2)  # two, so that a projector's 1024 px shows them whole
    columns[0].metric("Guesses the next character right", f"{accuracy:.0%}" if isinstance(accuracy, int | float)
                      else "—", help="On text it never trained on: how often its likeliest next character is right.")
    columns[1].metric("As unsure as choosing between", f"{choices:,.1f} characters" if choices else "—",
                      help="The perplexity, e to the power of the validation loss"
                           + (f" ({loss:.3f} nats)." if isinstance(loss, int | float) else "."))
    quality = quality_sentence(loss, accuracy, model["task"])
    st.caption(plain(f"On text it never trained on, the model {quality}.") if quality else
               "The model has not been checked on held-out text yet.")


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
        st.markdown("**How the next character is picked**")
        first, second, third = st.columns(3)
        temperature = first.slider("Temperature", 0.05, 2.0, 0.8, 0.05,
                                   help="It divides the model's scores before they become chances.")
        first.caption(EXPLAINED["temperature"])
        top_k = second.number_input(TOP_K_LABEL, 0, vocabulary_size, 0, help="Top-k sampling.")
        second.caption(EXPLAINED["top_k"])
        top_p = third.slider(TOP_P_LABEL, 0.05, 1.0, 1.0, 0.05, help="Nucleus sampling.")
        third.caption(EXPLAINED["top_p"])
        greedy = st.checkbox("Greedy (no randomness)", help="Also called argmax decoding.")
        st.caption(EXPLAINED["greedy"])
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
    st.session_state.pop(character_map.POSITION_KEY, None)  # a new text: explain its first character
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


def coloured_markdown(seed: str, text: str, text_colours: list[str | None]) -> str:
    """Markdown of seed + text with each generated character in its colour (None: plain).

    Text colour, not background: Streamlit pads coloured backgrounds, which would space the letters apart.
    """
    spaced = keep_spaces(seed + text)  # on the whole text: a colour change never turns a plain space into nbsp
    colours = [None] * len(seed) + list(text_colours)
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
                         xaxis=dict(title="next character", type="category"), height=presenter.chart_height(320),
                         font=dict(size=presenter.chart_font_size()),
                         margin=dict(l=10, r=10, t=30, b=10), showlegend=False)
    return figure


def show_result(result: dict, colour: bool) -> None:
    seed, texts, num = result["options"]["seed"], result["texts"], result["options"]["num"]
    scale = confidence_scale(result["probabilities"])
    if colour:
        st.caption(scale_caption(scale))
    for index, column in enumerate(st.columns(num)):
        with column:
            if num > 1:
                st.markdown(f"**Variation {index + 1}**")
            if colour:
                with st.container(border=True):
                    st.markdown(coloured_markdown(seed, texts[index], [
                        scale.colour(p) for p in result["probabilities"][index]]))
            else:
                st.code(seed + texts[index], language=None, wrap_lines=True)
    download = seed + texts[0] if num == 1 else "\n\n".join(
        f"--- variation {index + 1} ---\n{seed}{text}" for index, text in enumerate(texts))
    st.download_button("Download the text", download, file_name="generated.txt", mime="text/plain",
                       icon=":material/download:", help="Save the generated text as a plain .txt file.")
    explain_position(result, scale if colour else None)


def explain_position(result: dict, scale: character_map.ConfidenceScale | None) -> None:
    """The text again, one clickable character at a time (tinted on `scale`; None when the colouring is off), and
    the top-5 candidates at the character clicked."""
    st.subheader("Why this character?")
    st.caption("Click any character of the new text below (grey: the seed). At each step the model gives every "
               "character a chance; the chart shows the five likeliest (after temperature, top-k and top-p; with "
               "greedy, the model's raw chances). Green: the one it wrote.")
    num = result["options"]["num"]
    clicked, index = character_map.picked(result)
    variation = clicked
    if num > 1:
        variation = st.radio("Variation", range(num), index=clicked, horizontal=True,
                             format_func=lambda i: f"Variation {i + 1}", help="Which of the texts to look inside.")
        index = index if variation == clicked else 0
    text = result["texts"][variation]
    if not text:
        return
    character_map.show_clickable_text(result, variation, scale, font_size=15 + 3 * presenter.is_on())
    st.markdown(character_map.explanation_line(result, variation, index))
    st.plotly_chart(alternatives_figure(result["alternatives"][variation][index], text[index]), width="stretch")
