"""seqlab's benchmarks, kept beside their results (bench/results/*.json) and outside the package.

`python -m bench generation | training | quality`, run from the checkout: one module per benchmark, each exposing
`add_<name>_command(bench_commands)`, registered in bench/__main__.py. Results are JSON, written to
bench/results/<name>.json unless --out says otherwise; docs/performance.md reports them.
"""
