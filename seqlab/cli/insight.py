"""`python -m seqlab inspect-run`: look inside a generation run on a text of your own.

    python -m seqlab inspect-run RUN --text "ROMEO: But soft" [--position N] [--top 5] [--json]

Human output: what the model expected next, the units that follow a simple feature of the text, which earlier
characters the chosen prediction leaned on, and how far back the model looks on average. --json prints everything
(states, gates, predictions, influences) as seqlab.insight.summary.inspect_text returns it.
"""

from __future__ import annotations

import argparse
import json

from seqlab.errors import SeqlabError
from seqlab.runs import run_folder


def add_commands(commands, add_root_option) -> None:
    inspect_run = commands.add_parser("inspect-run", help="look inside a generation run: units, gates, influence")
    inspect_run.add_argument("run", help="run folder or run id (a generate run)")
    inspect_run.add_argument("--text", required=True, help="the text to feed the model (characters it knows)")
    inspect_run.add_argument("--position", type=int, default=None,
                             help="explain the prediction after this character (0 is the first; default: the last)")
    inspect_run.add_argument("--top", type=int, default=5, help="how many units to list (default 5)")
    inspect_run.add_argument("--json", action="store_true", help="print everything as JSON")
    add_root_option(inspect_run)
    inspect_run.set_defaults(handler=command_inspect_run)


def command_inspect_run(args: argparse.Namespace) -> None:
    from seqlab.infer.loading import check_run_location, load_run
    from seqlab.insight.summary import check_position, inspect_text, require_recurrent

    if args.text:  # before the model loads: a slip in the position gets an instant answer
        check_position(args.position, len(args.text))
    run_dir = check_run_location(run_folder.resolve_run(args.run, args.runs_root), args.runs_root)
    model_config = run_folder.read_configs(run_dir)[0]
    task = model_config.task
    require_recurrent(model_config.cell)
    if task != "generate":  # said before the model loads, as require_task would say it after
        raise SeqlabError(f"{run_dir.name} is a {task} run, so it cannot be looked inside", "a generate run "
                          "(inspect-run reads generation models)", "pick a generate run; score reviews with this one "
                          "(`python -m seqlab score`)")
    run = load_run(run_dir, args.runs_root)
    result = inspect_text(run, args.text, args.position, args.top)
    print(json.dumps(result, ensure_ascii=False) if args.json else format_inspection(result))


def _shown(character: str) -> str:
    return repr(character)


def _back(distance: int) -> str:
    return "just read" if distance == 0 else f"{distance} back"


def _characters(count: int) -> str:
    return "1 character" if count == 1 else f"{count} characters"


def format_inspection(result: dict) -> str:
    """A few readable lines from inspect_text's dict."""
    text, found, spread = result["text"], result["influence"], result["influence_by_distance"]
    position, layers = found["position"], result["layers"]
    prediction = result["predictions"][position]
    lines = [f"{len(text)} characters through a {result['cell']} model ({len(layers)} layer(s) of "
             f"{layers[0]['units']} units)."]
    expected = (f"After {_shown(prediction['character'])} at position {position} the model expected "
                f"{_shown(prediction['top_guess'])} ({prediction['top_probability']:.0%})")
    if prediction["next"] is not None:
        expected += f"; the text has {_shown(prediction['next'])} ({prediction['probability_of_next']:.0%})"
    lines.append(expected + ".")
    if result["top_units"]:
        lines.append("Units that follow a feature of the text:")
        lines += [f"  {entry['text']}" for entry in result["top_units"]]
    strongest = ", ".join(f"{_shown(entry['character'])} ({_back(position - entry['position'])})"
                          for entry in found["strongest"])
    lines.append(f"Characters that mattered most for predicting {_shown(found['predicted'])} "
                 f"({found['predicted_is']}): {strongest or 'none'}.")
    lines.append(f"Reach: half of the influence on a prediction comes from the last {_characters(spread['reach'])} "
                 f"(averaged over {spread['windows']} windows of {spread['length']} characters from "
                 f"{spread['source']}).")
    return "\n".join(lines)
