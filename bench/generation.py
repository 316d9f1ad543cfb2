"""`python -m bench generation`: characters per second of seqlab's sampler against the two usual ways.

Three ways to generate from the same Keras model, all timed in one run, in interleaved rounds (A B C, A B C, …) so
that load from other programs on a shared machine falls on each alike:
- keras_naive: the tutorials' loop — every new character re-runs the last 100 characters through `model(x)`;
- numpy_reference: the simplest readable stateful NumPy loop (Keras' weights as they are, one step per character);
- seqlab: CharSampler (seqlab/infer/sampling.py), the app's path, alternatives bookkeeping included; seqlab_gemm is the
  same with the small-block products switched off, to show what they bring.
Each run generates `length` characters after a 100-character seed, seed included in the time; batch 8 = 8
variations at once, counted as 8 characters per step. Weights are untrained (Keras' seeded initialisation): speed
does not depend on what the weights have learned.
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bench.generation_baselines import NAIVE_WINDOW, greedy_texts, keras_naive, numpy_reference
from bench.report_file import output_path, writer

CORPUS = Path(__file__).resolve().parents[1] / "seqlab" / "corpus" / "data" / "tiny_shakespeare.txt"
BATCHES = (1, 8)
GOALS = {"batch_1_characters_per_second": 3000, "batch_8_over_batch_1_goal": 4}  # issue 5, LSTM 512x2, 2 cores
WEIGHT_SEED = 1234


@dataclass(frozen=True)
class Case:
    name: str
    cell: str
    num_layers: int
    units: int
    embedding_dim: int


@dataclass(frozen=True)
class Plan:
    repeats: int  # timed runs per (method, batch, threads); the figure is their median
    lengths: dict  # method -> new characters per timed run
    cases: tuple


def default_plan(quick: bool) -> Plan:
    from seqlab.presets import PRESETS

    demo = PRESETS["generate"]["quick-demo"]
    cases = [Case("lstm 512x2", "lstm", 2, 512, 256),
             Case("quick-demo preset", demo["cell"], demo["num_layers"], demo["units"], demo["embedding_dim"])]
    if quick:
        return Plan(3, {"seqlab": 200, "seqlab_gemm": 200, "numpy_reference": 60, "keras_naive": 4}, tuple(cases))
    cases += [Case("gru 512x2", "gru", 2, 512, 256), Case("simple_rnn 512x2", "simple_rnn", 2, 512, 256)]
    return Plan(5, {"seqlab": 800, "seqlab_gemm": 800, "numpy_reference": 200, "keras_naive": 12}, tuple(cases))


class BlasThreads:
    """NumPy's OpenBLAS thread count, read and set at run time (as threadpoolctl does), if the library is found."""

    def __init__(self):
        self.library, self.prefix = None, ""
        try:
            paths = {line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines()
                     if "openblas" in line.lower() and line.split()[-1].startswith("/")}
        except OSError:
            paths = set()
        for path in sorted(paths):
            library = ctypes.CDLL(path)
            for prefix, suffix in (("scipy_openblas", "64_"), ("openblas", "64_"), ("openblas", "")):
                if hasattr(library, f"{prefix}_get_num_threads{suffix}"):
                    self.library, self.prefix, self.suffix = library, prefix, suffix
                    return

    def _function(self, name: str):
        return getattr(self.library, f"{self.prefix}_{name}{self.suffix}")

    def get(self) -> int | None:
        return int(self._function("get_num_threads")()) if self.library else None

    def set(self, threads: int) -> None:
        if self.library:
            self._function("set_num_threads")(threads)

    def config(self) -> str | None:
        if not self.library:
            return None
        function = self._function("get_config")
        function.restype = ctypes.c_char_p
        return function().decode()


def machine_info(blas: BlasThreads) -> dict:
    """CPU, cores, BLAS and its threads, versions: enough to compare figures between machines."""
    from importlib import metadata

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else None
    return {"cpu": cpu, "logical_cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "blas": blas.config(), "blas_threads_at_start": blas.get(), "platform": platform.platform(),
            "python": platform.python_version(), "load_average_at_start": list(os.getloadavg()),
            "versions": {name: metadata.version(name) for name in ("numpy", "tensorflow", "keras")},
            "environment": {name: os.environ.get(name) for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                                    "OPENBLAS_CORETYPE", "TF_ENABLE_ONEDNN_OPTS")}}


def build_case(case: Case, vocabulary_size: int):
    """The Keras model of a case with seeded, untrained weights."""
    import keras

    from seqlab.config import ModelConfig
    from seqlab.model.builder import build_model

    keras.utils.set_random_seed(WEIGHT_SEED)
    return build_model(ModelConfig(cell=case.cell, num_layers=case.num_layers, units=case.units,
                                   embedding_dim=case.embedding_dim), vocabulary_size)


def _runners(model, vocabulary, seed: str, plan: Plan) -> dict:
    """method -> function(batch, round) generating plan.lengths[method] characters per row."""
    from seqlab.infer.numpy_cells import _Product
    from seqlab.infer.sampling import CharSampler, NumpyCharModel

    ids = vocabulary.encode(seed)
    fast, gemm = (CharSampler(NumpyCharModel.from_keras(model), vocabulary) for _ in range(2))
    gemm_products = [product for layer in gemm.model.layers for product in layer.values()
                     if isinstance(product, _Product)] + [gemm.model.output]
    for product in gemm_products:
        product.blocked = {batch: False for batch in BATCHES}
    lengths = plan.lengths
    return {"seqlab": lambda num, r: fast.generate(seed, lengths["seqlab"], num=num, random_seed=r),
            "seqlab_gemm": lambda num, r: gemm.generate(seed, lengths["seqlab_gemm"], num=num, random_seed=r),
            "numpy_reference": lambda num, r: numpy_reference(model, ids, lengths["numpy_reference"], num,
                                                              np.random.default_rng(r)),
            "keras_naive": lambda num, r: keras_naive(model, ids, lengths["keras_naive"], num)}


def measure_case(case: Case, vocabulary, seed: str, plan: Plan, blas: BlasThreads, progress) -> dict:
    """Median characters/s per (method, batch, BLAS threads); Keras' own threads are not BLAS's: measured once."""
    from seqlab.config import ModelConfig
    from seqlab.model.size import parameter_count

    model = build_case(case, vocabulary.size)
    runners = _runners(model, vocabulary, seed, plan)
    default_threads = blas.get()
    thread_counts = [default_threads] + ([1] if default_threads not in (None, 1) else [])
    measurements = []
    for threads in thread_counts:
        if threads is not None:
            blas.set(threads)
        methods = [m for m in runners if m != "keras_naive" or threads == default_threads]
        for batch in BATCHES:
            for method in methods:
                runners[method](batch, 0)  # untimed: first-call costs (tracing, block copies, probes)
            runs = {method: [] for method in methods}
            for round_index in range(plan.repeats):
                for method in methods:
                    began = time.perf_counter()
                    runners[method](batch, round_index + 1)
                    runs[method].append(batch * plan.lengths[method] / (time.perf_counter() - began))
            for method in methods:
                measurements.append({"method": method, "batch": batch, "blas_threads": threads,
                                     "characters_per_second": round(float(np.median(runs[method])), 1),
                                     "runs": [round(value, 1) for value in runs[method]]})
                progress(f"  {case.name}: {method:<15} batch {batch} BLAS threads {threads}: "
                         f"{measurements[-1]['characters_per_second']:>10,.0f} characters/s")
    if default_threads is not None:
        blas.set(default_threads)
    texts = greedy_texts(model, vocabulary, seed[-NAIVE_WINDOW // 2:], NAIVE_WINDOW // 2)
    config = ModelConfig(cell=case.cell, num_layers=case.num_layers, units=case.units,
                         embedding_dim=case.embedding_dim)
    return {"case": asdict(case), "parameters": parameter_count(config, vocabulary.size),
            "measurements": measurements, "speedups": speedups(measurements),
            "greedy_texts_agree": len(set(texts.values())) == 1, "greedy_texts": texts}


def speedups(measurements: list[dict]) -> dict:
    """seqlab ÷ each other method, per batch and BLAS thread count (same run, same conditions)."""
    rate = {(m["method"], m["batch"], m["blas_threads"]): m["characters_per_second"] for m in measurements}
    result = {}
    for (method, batch, threads), value in rate.items():
        if method != "seqlab":  # keras_naive runs at the default threads only, where seqlab runs too
            result[f"seqlab_over_{method}_batch_{batch}_threads_{threads}"] = round(
                rate[("seqlab", batch, threads)] / value, 2)
    return result


def run_benchmark(quick: bool = False, progress=print, plan: Plan | None = None) -> dict:
    """The whole benchmark as one JSON-ready dict (see the module docstring); `plan` overrides the default one."""
    from seqlab.encoding.vocabulary import CharVocabulary

    plan, blas = plan or default_plan(quick), BlasThreads()
    text = CORPUS.read_text(encoding="utf-8")
    vocabulary, seed = CharVocabulary.from_text(text), text[:NAIVE_WINDOW]
    report = {"benchmark": "generation", "quick": quick, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "machine": machine_info(blas),
              "method": {"repeats": plan.repeats, "statistic": "median characters/s of the timed runs; "
                         "rounds interleave the methods", "lengths": plan.lengths, "seed_characters": len(seed),
                         "vocabulary": f"Tiny Shakespeare, {vocabulary.size} characters",
                         "weights": "untrained (Keras' initialisation, seed 1234)",
                         "sampling": "temperature 1, no top-k/top-p; batch b = b variations, b characters per step",
                         "blas_threads": "measured at the process's default and at 1 (NumPy's OpenBLAS, set at run "
                                         "time); the Keras loop uses TensorFlow's threads and is measured once"},
              "goals": GOALS, "results": []}
    for case in plan.cases:
        progress(f"{case.name} …")
        report["results"].append(measure_case(case, vocabulary, seed, plan, blas, progress))
    report["goals_met"] = goals_met(report["results"][0]["measurements"])
    report["machine"]["load_average_at_end"] = list(os.getloadavg())
    return report


def goals_met(measurements: list[dict]) -> dict:
    """Issue 5's goals for the LSTM 512x2, at the best BLAS thread count measured."""
    best = {batch: max(m["characters_per_second"] for m in measurements
                       if m["method"] == "seqlab" and m["batch"] == batch) for batch in BATCHES}
    goal = GOALS["batch_1_characters_per_second"]
    return {"batch_1": best[1] >= goal, "batch_8_total": best[8] >= GOALS["batch_8_over_batch_1_goal"] * goal,
            "best_seqlab_characters_per_second": best}


def command_bench_generation(args) -> None:
    """`bench generation`: prints the JSON on stdout (progress on stderr) and writes it to --out."""
    out = output_path(args.out, args.quick, "generation")
    report = run_benchmark(quick=args.quick, progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(json.dumps(report, indent=2, ensure_ascii=False))
    writer(out)(report)
    if out is not None:
        print(f"written to {out}", file=sys.stderr)


def add_generation_command(bench_commands) -> None:
    """Registers `generation` under `bench` (called from bench/__main__.py)."""
    parser = bench_commands.add_parser("generation", help="characters/s: seqlab's sampler vs the naive Keras loop "
                                       "and a plain NumPy loop")
    parser.add_argument("--quick", action="store_true", help="fewer models, shorter runs (about a minute); writes "
                        "a file only with --out")
    parser.add_argument("--out", help="JSON file to write (default: bench/results/generation.json in the checkout)")
    parser.set_defaults(handler=command_bench_generation)
