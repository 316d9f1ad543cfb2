"""`python -m seqlab bench …`: one subcommand per benchmark module in seqlab/benchmarks.

A new benchmark is one more entry in BENCHMARKS: its module's `add_<name>_command(bench_commands)` adds its
subparser (flags, handler). Modules are imported here, but they import TensorFlow only when they run.
"""

from __future__ import annotations

import importlib

BENCHMARKS = (  # (module, registering function)
    ("seqlab.benchmarks.generation", "add_generation_command"),
    ("seqlab.benchmarks.training", "add_training_command"),
    ("seqlab.benchmarks.quality", "add_quality_command"),
)


def add_commands(commands, add_root_option) -> None:
    """Registers `bench` and its subcommands (add_root_option: unused, benchmarks write no runs)."""
    bench = commands.add_parser("bench", help="benchmarks (JSON on stdout and in benchmarks/): "
                                "bench generation | bench training | bench quality")
    bench_commands = bench.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK",
                                          parser_class=type(bench))
    for module, function in BENCHMARKS:
        getattr(importlib.import_module(module), function)(bench_commands)
