"""Benchmarks behind `python -m seqlab bench …`: one module per subcommand (generation, training).

Each module exposes `add_<name>_command(bench_commands)`; seqlab/cli_bench.py registers them. Results are JSON,
written to benchmarks/<name>.json in the checkout unless --out says otherwise.
"""
