"""`python -m seqlab ...`: everything the app can do, from a terminal.

Errors a person can fix print one line on stderr and exit with code 2 — never
a traceback. Subcommands import TensorFlow only when they need it, so
`corpora` and `inspect` answer instantly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from seqlab import settings
from seqlab.errors import SeqlabError

EXIT_USER_ERROR = 2
_progress_line_open = False  # a progress line is on stderr without its newline: an error must start below it


def _progress_printer(label: str):
    """A download progress line on stderr, redrawn in place."""
    def report(done: int, total: int | None) -> None:
        global _progress_line_open
        _progress_line_open = True
        share = f" {done / total:6.1%}" if total else ""
        print(f"\r{label}: {done / 1e6:7.1f} MB{share}", end="", file=sys.stderr, flush=True)
    return report


def command_corpora(args: argparse.Namespace) -> None:
    from seqlab.corpus.registry import list_corpora

    corpora = list_corpora(families=True)  # the memory-probe families once each, with how to name N
    if args.json:
        print(json.dumps([info.__dict__ for info in corpora], indent=2))
        return
    width = max(len(info.name) for info in corpora)
    for info in corpora:
        print(f"{info.name:<{width}}  {info.task:<8}  {info.size:<21}  {info.description} [{info.source}]")


def command_inspect(args: argparse.Namespace) -> None:
    from seqlab.corpus.charsets import encoding_note
    from seqlab.corpus.registry import load_corpus
    from seqlab.corpus.statistics import corpus_statistics

    if args.value_column:  # a column of a table, read as a series
        from seqlab.corpus.registry import Corpus
        from seqlab.corpus.series import load_series

        series = load_series(args.corpus, args.value_column)
        corpus = Corpus(name=series.name, task="forecast", source=args.corpus, series=series)
    else:
        corpus = load_corpus(args.corpus, text_column=args.text_column, label_column=args.label_column,
                             star_threshold=args.star_threshold, allow_download=True,
                             progress=_progress_printer("downloading"))
    stats = corpus_statistics(corpus)
    if "columns" in corpus.details:  # a table: which columns were chosen by the person, which detected
        stats["detected"] = [name for name, chosen in (("text", args.text_column), ("label", args.label_column))
                             if not chosen]
    if "encoding" in corpus.details:
        stats["encoding"] = corpus.details["encoding"]
    note = encoding_note(stats.get("encoding"))
    report = format_statistics(stats) + (f"\n  {note}" if note else "")
    print(json.dumps(stats, indent=2, ensure_ascii=False) if args.json else report)


def format_statistics(stats: dict) -> str:
    """The human-readable report of `inspect`: the losses a model must beat, in words (then in nats)."""
    from seqlab.report.plain_words import reference_words

    lines = [f"{stats['name']} ({stats['task']}) from {stats['source']}"]
    if stats["task"] == "forecast":
        return "\n".join(lines + series_lines(stats))
    if stats["task"] == "generate":
        lines += [
            f"  characters:          {stats['characters']:,}",
            f"  distinct characters: {stats['distinct_characters']}",
            f"  lines / words:       {stats['lines']:,} / {stats['words']:,}",
            "  most common:         " + " ".join(f"{ch!r}×{n:,}" for ch, n in stats["most_common"][:6]),
            "  to beat:             " + reference_words("uniform", "generate", stats["uniform_loss"]) + ", "
            + reference_words("unigram", "generate", stats["unigram_loss"]) + "; losses in nats per character",
        ]
        return "\n".join(lines)
    for name, split in stats["splits"].items():
        share = split["positive_share"]
        balance = "balanced" if abs(share - 0.5) <= 0.02 else "imbalanced"
        pct = split["length_words_percentiles"]
        lines += [
            f"  {name}: {split['documents']:,} reviews — {split['positive']:,} positive / "
            f"{split['negative']:,} negative ({share:.1%} positive, {balance})",
            f"    length in words: 5%={pct['5']} 25%={pct['25']} median={pct['50']} 75%={pct['75']} "
            f"95%={pct['95']} max={split['length_words_max']}",
        ]
    if "text_column" in stats:
        detected = stats.get("detected", [])
        chosen = {kind: f"'{stats[kind + '_column']}'" + (" (detected)" if kind in detected else " (chosen)")
                  for kind in ("text", "label")}
        if "columns" in stats:
            lines.append("  columns in the file: " + ", ".join(stats["columns"]))
        lines.append(f"  columns used: text={chosen['text']}, label={chosen['label']}")
    if "star_threshold" in stats:
        lines.append(f"  star ratings: {stats['star_threshold']:g} and above read as positive, below as negative "
                     "(--star-threshold to change)")
    return "\n".join(lines)


def series_lines(stats: dict) -> list[str]:
    """A series' report: size, range, dates, gaps and season."""
    dates = f" ({stats['first_date']} to {stats['last_date']})" if stats.get("first_date") else ""
    lines = [f"  values:              {stats['values']:,}{dates}",
             f"  range:               {stats['minimum']:.4g} to {stats['maximum']:.4g} (mean {stats['mean']:.4g})",
             "  season:              " + (f"{stats['season_length']} steps (seasonal-naive repeats it)"
                                          if stats["season_length"] > 1 else "none found (seasonal-naive = naive)")]
    if stats.get("value_column"):
        lines.append(f"  value column:        '{stats['value_column']}'" + (
            f", dates from '{stats['date_column']}'" if stats.get("date_column") else ""))
    if stats["missing_filled"] or stats["missing_dropped"]:
        lines.append(f"  missing values:      {stats['missing_filled']} filled in between their neighbours, "
                     f"{stats['missing_dropped']} dropped at the ends")
    return lines


def command_download(args: argparse.Namespace) -> None:
    if args.archive:  # the app's "upload aclImdb_v1.tar.gz": checked the same way, with no upload cap
        from pathlib import Path

        from seqlab.corpus.dataset_download import import_archive

        path, counts = import_archive(Path(args.archive))
        print(f"imdb-full is at {path} ({counts['train']:,} training and {counts['test']:,} test reviews)",
              file=sys.stderr)
        return
    from seqlab.corpus.imdb import imdb_archive

    path = imdb_archive(allow_download=True, progress=_progress_printer("imdb-full"))
    print(f"\nimdb-full is at {path}", file=sys.stderr)


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr and exit code 2, like every other error."""

    def error(self, message: str):
        self.exit(EXIT_USER_ERROR, f"error: {message}. Fix: see `{self.prog} --help`.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="python -m seqlab", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=OneLineErrorParser)

    corpora = commands.add_parser("corpora", help="list the built-in corpora")
    corpora.add_argument("--json", action="store_true", help="print JSON instead of a table")
    corpora.set_defaults(handler=command_corpora)

    inspect = commands.add_parser("inspect", help="statistics of a corpus (built-in name or path)")
    inspect.add_argument("corpus", help="built-in name, or path of a .txt/.csv/.tsv file or aclImdb archive")
    add_table_options(inspect)
    inspect.add_argument("--json", action="store_true", help="print JSON")
    inspect.set_defaults(handler=command_inspect)

    from seqlab.cli import app_command

    app_command.add_commands(commands, add_root_option)
    download = commands.add_parser("download", help="download a corpus into the cache (imdb-full)")
    download.add_argument("corpus", choices=["imdb-full"])
    download.add_argument("--archive", help="take aclImdb_v1.tar.gz from this file instead of downloading it")
    download.set_defaults(handler=command_download)

    from seqlab.cli.training import add_commands

    add_commands(commands, add_root_option)
    from seqlab.cli import generation

    generation.add_commands(commands, add_root_option)
    from seqlab.cli import housekeeping

    housekeeping.add_commands(commands, add_root_option)
    from seqlab.cli import export

    export.add_commands(commands, add_root_option)
    from seqlab.cli import insight

    insight.add_commands(commands, add_root_option)
    from seqlab.cli import forecasting, lessons

    lessons.add_commands(commands, add_root_option)
    forecasting.add_commands(commands, add_root_option)
    return parser


def add_root_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs-root", help=f"folder holding the runs (default: ${settings.RUNS_VARIABLE} or "
                        "~/.local/share/seqlab/runs)")


def add_table_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--text-column", help="CSV/TSV column holding the text (default: detected)")
    parser.add_argument("--label-column", help="CSV/TSV column holding the label (default: detected)")
    parser.add_argument("--value-column", help="read the file as a series: the CSV/TSV column of numbers (forecast)")
    parser.add_argument("--star-threshold", type=float, default=0.0,
                        help="with star-rating labels, stars at or above this are positive (default 0: automatic, "
                             "6 on a 1–10 scale, 4 on a 1–5 scale)")


TENSORFLOW_COMMANDS = ("generate", "score", "evaluate", "export", "inspect-run", "forecast")


def import_tensorflow_quietly() -> None:
    """TensorFlow prints start-up lines (oneDNN, CUDA probing) on stderr before its own log settings apply;
    silence fd 2 while it loads so a command's stderr holds only seqlab's own messages."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras  # noqa: F401  (imports tensorflow, then keras's own start-up)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _silence_stdout() -> None:
    """Point stdout at the null device, so that Python's final flush of the closed pipe prints nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a file (a test's capture): nothing to flush
        pass


def _end_progress_line() -> None:
    global _progress_line_open
    if _progress_line_open:
        print(file=sys.stderr)
        _progress_line_open = False


def main(argv: list[str] | None = None) -> int:
    global _progress_line_open
    _progress_line_open = False
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a bad flag (its one-line message is printed): its exit code
        return exit_.code if isinstance(exit_.code, int) else 0
    if args.command in TENSORFLOW_COMMANDS:
        import_tensorflow_quietly()
    try:
        args.handler(args)
    except SeqlabError as error:
        _end_progress_line()
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        _end_progress_line()
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader left (`seqlab generate … | head`): stop quietly, as other tools do
        _silence_stdout()
        return 1
    except Exception as error:  # a bug, not the user's fault: still no traceback unless asked for
        if settings.debug():
            raise
        _end_progress_line()
        print(f"error: internal error ({type(error).__name__}: {error}). Set {settings.DEBUG_VARIABLE}=1 to see the "
              "traceback, and please report it.", file=sys.stderr)
        return 1
    return 0
