"""`python -m seqlab export RUN --out DIR [--tensorboard DIR]`: a run's model for use without seqlab.

--out writes what the app's "Download the model (zip)" holds, as files: model.keras built from Keras' own
layers (plain `keras.saving.load_model` loads it), config.json, vocabulary.json, metrics.jsonl and a model
card README.md (seqlab/infer/export.py, model_card.py). --tensorboard writes the run's curves as TensorBoard
event files under DIR/<run id> (seqlab/report/tensorboard.py).
"""

from __future__ import annotations

import argparse

from seqlab.errors import SeqlabError
from seqlab.runs import run_folder


def add_commands(commands, add_root_option) -> None:
    export = commands.add_parser("export", help="the model as plain Keras + model card (--out), the curves for "
                                 "TensorBoard (--tensorboard)")
    export.add_argument("run", help="run folder or run id")
    export.add_argument("--out", metavar="DIR", help="folder to write model.keras, config.json, vocabulary.json, "
                        "metrics.jsonl and README.md into (made if missing)")
    export.add_argument("--tensorboard", metavar="DIR", help="also write the metrics as TensorBoard event files "
                        "under DIR/<run id>")
    add_root_option(export)
    export.set_defaults(handler=command_export)


def command_export(args: argparse.Namespace) -> None:
    if not args.out and not args.tensorboard:
        raise SeqlabError("Nothing to export", "--out DIR (the model, for plain Keras) and/or --tensorboard DIR "
                          "(the curves)", f"add --out {args.run}-export")
    run_dir = run_folder.resolve_run(args.run, args.runs_root)
    if args.out:
        from seqlab.infer.export import export_to_folder

        written = export_to_folder(run_dir, args.out, args.runs_root)
        print(f"Exported {run_dir.name} to {written[0].parent}: " + ", ".join(path.name for path in written))
        print("Plain Keras loads it, no seqlab needed: keras.saving.load_model(\"model.keras\"); see README.md")
    if args.tensorboard:
        from seqlab.report.tensorboard import write_tensorboard

        folder, count = write_tensorboard(run_dir, args.tensorboard)
        print(f"Wrote {count:,} scalars to {folder}; view them with: tensorboard --logdir {folder.parent}")
