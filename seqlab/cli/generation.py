"""CLI commands that use a trained model: `generate` (text from a generation run) and `score` (reviews).

    python -m seqlab generate RUN --seed "ROMEO:" --length 500 --temperature 0.8 [--top-k K] [--top-p P]
                              [--greedy] [--num N] [--random-seed S]
    python -m seqlab score RUN "text" ["text" ...] [--json] [--explain]
    python -m seqlab score RUN --file in.csv --out scored.csv [--text-column C]

`generate` streams: the seed appears at once, then characters as they are drawn. With --num N > 1 every
variation is printed under a header line `=== variation i/N ===`; the first one streams, the others
(drawn alongside it, as one batch) follow when it is done.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seqlab.errors import SeqlabError
from seqlab.runs import run_folder


def add_commands(commands, add_root_option) -> None:
    generate = commands.add_parser("generate", help="generate text with a trained generation run (streams)")
    generate.add_argument("run", help="run folder or run id")
    generate.add_argument("--seed", default="", help="text to start from (default: none, the model starts a "
                          "paragraph)")
    generate.add_argument("--length", type=int, default=500, help="new characters to generate (default 500)")
    generate.add_argument("--temperature", type=float, default=0.8,
                          help="above 0; lower is safer, higher is wilder (default 0.8)")
    generate.add_argument("--top-k", type=int, default=0, help="draw only from the K likeliest characters (0: all)")
    generate.add_argument("--top-p", type=float, default=1.0,
                          help="draw only from the likeliest characters holding this much probability (1: all)")
    generate.add_argument("--greedy", action="store_true", help="always take the likeliest character")
    generate.add_argument("--num", type=int, default=1, help="variations from the same seed (default 1)")
    generate.add_argument("--random-seed", type=int, default=None, help="repeat a result: same seed, same text")
    add_root_option(generate)
    generate.set_defaults(handler=command_generate)

    score = commands.add_parser("score", help="probability that reviews are positive, with a trained classify run")
    score.add_argument("run", help="run folder or run id")
    score.add_argument("texts", nargs="*", help="review texts to score (or use --file)")
    score.add_argument("--json", action="store_true", help="print JSON")
    score.add_argument("--explain", action="store_true", help="per-word contributions for one text (and attention "
                       "weights, for a model with attention pooling)")
    score.add_argument("--file", help="a .csv/.tsv of reviews to score row by row")
    score.add_argument("--out", help="with --file: where to write the scored table")
    score.add_argument("--text-column", help="with --file: column holding the text (default: detected)")
    add_root_option(score)
    score.set_defaults(handler=command_score)


def command_generate(args: argparse.Namespace) -> None:
    from seqlab.infer.loading import load_sampler

    if not args.temperature > 0:  # before the model loads: the most common slip gets an instant answer
        raise SeqlabError(f"--temperature is {args.temperature}", "a number above 0 (typical: 0.5 to 1.2)",
                          "use a positive temperature, or --greedy for deterministic output")
    sampler = load_sampler(run_folder.resolve_run(args.run, args.runs_root), args.runs_root)
    chunks = sampler.stream(args.seed, args.length, temperature=args.temperature, top_k=args.top_k,
                            top_p=args.top_p, greedy=args.greedy, num=args.num, random_seed=args.random_seed)
    header = (lambda i: f"=== variation {i}/{args.num} ===") if args.num > 1 else None
    out = sys.stdout
    if header:
        out.write(header(1) + "\n")
    out.write(args.seed)
    out.flush()
    texts = [""] * args.num
    for chunk in chunks:
        out.write(chunk.texts[0])
        out.flush()
        texts = [text + new for text, new in zip(texts, chunk.texts)]
    out.write("\n")
    for index, text in enumerate(texts[1:], start=2):
        out.write(f"{header(index)}\n{args.seed}{text}\n")
    out.flush()


def command_score(args: argparse.Namespace) -> None:
    from seqlab.infer.score_file import score_csv
    from seqlab.infer.scoring import ReviewScorer, verdict

    if args.file and args.texts:
        raise SeqlabError("Both texts and --file were given", "either review texts or --file", "use one of them")
    if not args.file and (args.out or args.text_column):
        raise SeqlabError("--out and --text-column only apply with --file", "--file in.csv --out scored.csv",
                          "add --file, or drop those options")
    if args.file and not args.out:
        raise SeqlabError("--file needs --out", "--file in.csv --out scored.csv", "add --out PATH for the result")
    if not args.file and not args.texts:
        raise SeqlabError("Nothing to score", "one or more review texts, or --file in.csv --out scored.csv",
                          "add a text in quotes after the run")
    if args.explain and (args.file or len(args.texts) != 1):
        raise SeqlabError("--explain explains one text", "exactly one review text", "score one text with --explain")
    scorer = ReviewScorer.from_run(run_folder.resolve_run(args.run, args.runs_root), args.runs_root)
    if args.file:
        def report(rows: int) -> None:
            print(f"\rscored {rows:,} rows", end="", file=sys.stderr, flush=True)

        count = score_csv(scorer, Path(args.file), Path(args.out), args.text_column, progress=report)
        print(f"\rscored {count:,} rows into {args.out}", file=sys.stderr)
        return
    if args.explain:
        probability, words = scorer.word_contributions(args.texts[0])
        if args.json:
            print(json.dumps({"probability_positive": probability, "predicted_label": verdict(probability),
                              "words": [word.__dict__ for word in words]}, indent=2, ensure_ascii=False))
            return
        print(f"{probability:.4f}  {verdict(probability)}")
        if scorer.has_attention:  # two different things side by side: what changed the verdict, where it looked
            print(f"  {'effect':<7}  {'attention':<9}  word   (effect: what changed the verdict, leave-one-out; "
                  "attention: where the model looked; two different things)")
        for word in words:
            weight = f"  {word.attention:<9.4f}" if word.attention is not None else ""
            print(f"  {word.contribution:+.4f}{weight}  {word.word}")
        return
    probabilities = scorer.probabilities(args.texts).tolist()
    if args.json:
        print(json.dumps([{"text": text, "probability_positive": value, "predicted_label": verdict(value)}
                          for text, value in zip(args.texts, probabilities)], indent=2, ensure_ascii=False))
        return
    for text, value in zip(args.texts, probabilities):
        preview = " ".join(text.split())
        preview = preview if len(preview) <= 60 else preview[:59] + "…"
        print(f"{value:.4f}  {verdict(value):<8}  {preview}")
