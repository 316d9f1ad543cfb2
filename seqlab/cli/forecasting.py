"""`python -m seqlab forecast RUN --steps 24`: a forecast run's tail against the baselines, and what comes next.

The same figures as the Forecast page (seqlab/infer/forecasting.py forecast_run): a small table of MAE and RMSE
on the held-out tail for the model, the naive and the seasonal-naive forecasts, a few sentences in plain words,
then the next values after the series; `--json` prints the whole result for scripts.
"""

from __future__ import annotations

import argparse
import json

from seqlab.runs import run_folder

BASELINE_WORDS = {"model": "the model", "naive": "naive (last value again)",
                  "seasonal_naive": "seasonal-naive (last season again)"}


def add_commands(commands, add_root_option) -> None:
    forecast = commands.add_parser("forecast", help="a forecast run: its held-out tail against the baselines, "
                                                    "and the next values of its series")
    forecast.add_argument("run", help="run folder or run id")
    forecast.add_argument("--steps", type=int, default=24, help="how many values after the series (default 24)")
    forecast.add_argument("--json", action="store_true", help="print the whole result as JSON")
    add_root_option(forecast)
    forecast.set_defaults(handler=command_forecast)


def command_forecast(args: argparse.Namespace) -> None:
    from seqlab.infer.forecasting import forecast_run

    run_dir = run_folder.resolve_run(args.run, args.runs_root)
    result = forecast_run(run_dir, args.steps, root=args.runs_root)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(format_forecast(result))


def format_forecast(result: dict) -> str:
    """The table: tail errors of the model and the baselines, the sentences, then the next values."""
    from seqlab.infer.forecasting import forecast_in_words

    tail = len(result["tail"]["truth"])
    lines = [f"{result['name']}: run {result['run']} (predicts {result['horizon']} value(s) at once; season "
             f"{result['season_length']})", f"held-out tail: the last {tail} values, forecast from where it starts",
             f"  {'':<36}{'MAE':>10}{'RMSE':>10}"]
    for name, words in BASELINE_WORDS.items():
        figures = result["metrics"][name]
        lines.append(f"  {words:<36}{figures['mae']:>10.4g}{figures['rmse']:>10.4g}")
    lines += ["", *forecast_in_words(result["metrics"], result.get("unit", "")), ""]
    dates = result.get("dates")
    after = f" (after {dates[-1]})" if dates else ""
    lines.append(f"next {len(result['future'])} values{after}:")
    lines += [f"  {step:>4}  {value:.4g}" for step, value in enumerate(result["future"], start=1)]
    return "\n".join(lines)
