"""`python -m bench training`: seqlab's training step against plain Keras and PyTorch, on the same batches.

Three frameworks train the same shapes on the same batches: seqlab (build_model + compile_model, its own
train_step with global-norm clipping, driven by `fit` as the trainer drives it), plain Keras as the seeds
write it (Sequential Embedding → recurrent layers → Dense softmax, Adam(clipnorm=…)), and PyTorch nn.LSTM /
nn.GRU / nn.RNN with Adam + clip_grad_norm_ (bench/torch_reference.py). Each framework lives in
its own worker process (no shared thread pools; TensorFlow and torch never share a process). All workers
warm up first; then the parent asks them in turn for a few timed steps — A B C A B C … — so that load from
other programs on a shared machine falls on every framework alike. Throughput = batch × sequence length ÷
the median step time.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from bench.report_file import output_path, writer

VOCABULARY_SIZE = 65  # Tiny Shakespeare's distinct characters
DISTINCT_BATCHES = 4  # cycled: every framework sees the same batches in the same order
DATA_SEED = 1234
MARKER = "@@bench "  # prefix of the worker's protocol lines on stdout (anything else there is ignored)
FRAMEWORKS = ("seqlab", "keras", "torch")


@dataclass(frozen=True)
class Shape:
    """One benchmarked configuration; every framework trains exactly this."""

    name: str
    cell: str  # "simple_rnn" | "lstm" | "gru"
    num_layers: int
    units: int
    embedding_dim: int
    dropout: float = 0.0
    batch_size: int = 64
    sequence_length: int = 100
    learning_rate: float = 2e-3
    clip: str = "norm"  # seqlab's default: global norm 1.0
    clip_threshold: float = 1.0
    precision: str = "float32"  # "float32" | "bfloat16" (Keras mixed_bfloat16 vs torch.autocast)


@dataclass(frozen=True)
class Method:
    warmup_steps: int = 2  # untimed, per worker, before any timing (tracing, allocator warm-up); +1 build step
    rounds: int = 4  # A B C rounds
    steps_per_round: int = 3  # timed steps per framework per round
    threads: int = 2  # intra-op threads (TF) = torch.set_num_threads
    inter_op_threads: int = 2  # plain Keras's TF inter-op = torch.set_num_interop_threads (seqlab sets its own)


def full_shapes(bfloat16: bool) -> list[Shape]:
    """The issue's shapes (512×2, embedding 256, all three cells) and the app's recurrent generation presets (the
    tiny Transformer's has no plain-Keras or PyTorch char-RNN to race)."""
    from seqlab.presets import PRESETS

    shapes = [Shape(f"{cell} 512x2", cell, 2, 512, 256) for cell in ("lstm", "gru", "simple_rnn")]
    for preset, values in PRESETS["generate"].items():
        if values.get("cell") == "transformer":
            continue
        shapes.append(Shape(f"preset {preset}", values.get("cell", "lstm"), values.get("num_layers", 1),
                            values.get("units", 256), values.get("embedding_dim", 64), values.get("dropout", 0.0),
                            values.get("batch_size", 64), values.get("sequence_length", 100),
                            values.get("learning_rate", 2e-3)))
    if bfloat16:  # the precision the presets pick on this CPU (--precision auto): each shape again in bfloat16
        shapes += [replace(shape, name=f"{shape.name} bfloat16", precision="bfloat16")
                   for shape in shapes if shape.name != "preset balanced"]  # balanced: best-quality's shape
    return shapes


def quick_shapes() -> list[Shape]:
    return [Shape("lstm 32x1 (quick)", "lstm", 1, 32, 16, batch_size=8, sequence_length=20)]


def make_batches(shape: Shape) -> tuple[np.ndarray, np.ndarray]:
    """Random character ids, int32 (DISTINCT_BATCHES, batch, time): inputs and next-character targets."""
    rng = np.random.default_rng(DATA_SEED)
    windows = rng.integers(0, VOCABULARY_SIZE, (DISTINCT_BATCHES, shape.batch_size, shape.sequence_length + 1),
                           dtype=np.int32)
    return windows[:, :, :-1], windows[:, :, 1:]


# ---------------------------------------------------------------- parent side

def bfloat16_support() -> list[str]:
    """The CPU flags that make bfloat16 fast here; [] if none (seqlab.engine.cpu.bfloat16_cpu_flags)."""
    from seqlab.engine.cpu import bfloat16_cpu_flags

    return bfloat16_cpu_flags()


def machine_info() -> dict:
    """Enough to compare figures between machines, read without importing TensorFlow or torch."""
    import platform
    from importlib import metadata

    def first_value(path: str, key: str) -> str | None:
        try:
            lines = Path(path).read_text().splitlines()
        except OSError:
            return None
        return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(key)), None)

    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    memory = first_value("/proc/meminfo", "MemTotal")  # "24684084 kB"
    return {"cpu": first_value("/proc/cpuinfo", "model name") or platform.processor(),
            "logical_cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "memory_bytes": int(memory.split()[0]) * 1024 if memory else None, "bfloat16_flags": bfloat16_support(),
            "platform": platform.platform(), "python": platform.python_version(),
            "load_average_at_start": list(os.getloadavg()),
            "versions": {name: version(name) for name in ("tensorflow", "keras", "numpy", "torch")},
            "environment": {name: os.environ.get(name) for name in ("TF_ENABLE_ONEDNN_OPTS", "OMP_NUM_THREADS")}}


class Worker:
    """One framework's subprocess for one shape: started warm, then asked for timed steps."""

    def __init__(self, framework: str, shape: Shape, method: Method):
        module = "bench.torch_reference" if framework == "torch" else \
            "bench.training_worker"
        spec = json.dumps({"framework": framework, "shape": asdict(shape), "method": asdict(method)})
        environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
        self.framework = framework
        self.process = subprocess.Popen([sys.executable, "-m", module, "--worker", spec], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
                                        cwd=Path(__file__).resolve().parents[1])

    def receive(self) -> dict:
        for line in self.process.stdout:
            if line.startswith(MARKER):
                return json.loads(line[len(MARKER):])
        error = self.process.stderr.read().strip().splitlines()
        raise RuntimeError(f"{self.framework} worker exited ({self.process.wait()}): "
                           + (error[-1] if error else "no message"))

    def measure(self, steps: int) -> dict:
        self.process.stdin.write(f"measure {steps}\n")
        self.process.stdin.flush()
        return self.receive()

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.write("quit\n")
                self.process.stdin.close()
                self.process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


def summarise(step_seconds: list[float], cpu_seconds: list[float], shape: Shape, info: dict) -> dict:
    median = float(np.median(step_seconds))
    characters = shape.batch_size * shape.sequence_length
    return {"characters_per_second": round(characters / median, 1), "steps_per_second": round(1 / median, 4),
            "median_step_seconds": round(median, 5), "timed_steps": len(step_seconds),
            "fastest_step_seconds": round(min(step_seconds), 5),  # least disturbed by other programs
            # CPU time of the worker (all its threads): the work a step costs, barely changed by other programs
            "median_step_cpu_seconds": round(float(np.median(cpu_seconds)), 5),
            "quartile_step_seconds": [round(float(q), 5) for q in np.percentile(step_seconds, [25, 75])],
            "step_seconds": [round(t, 5) for t in step_seconds], **info}


def benchmark_shape(shape: Shape, method: Method, torch_available: bool, progress) -> dict:
    """All frameworks on one shape, interleaved round by round; a failing framework is recorded, not fatal."""
    results: dict[str, dict] = {} if torch_available else {"torch": {"error": "torch not installed"}}
    workers = [Worker(name, shape, method) for name in FRAMEWORKS if name in ("seqlab", "keras") or torch_available]
    infos, times = {}, {worker.framework: {"step_seconds": [], "cpu_seconds": []} for worker in workers}
    try:
        for worker in list(workers):  # they warm up concurrently; timing starts once all are ready
            try:
                infos[worker.framework] = {k: v for k, v in worker.receive().items() if k != "ready"}
            except RuntimeError as error:
                results[worker.framework] = {"error": str(error)}
                workers.remove(worker)
        for round_number in range(method.rounds):
            for worker in list(workers):
                try:
                    for key, values in worker.measure(method.steps_per_round).items():
                        times[worker.framework][key] += values
                except RuntimeError as error:
                    results[worker.framework] = {"error": str(error)}
                    workers.remove(worker)
            progress(f"  {shape.name}: round {round_number + 1}/{method.rounds}")
    finally:
        for worker in workers:
            worker.close()
    for worker in workers:
        results[worker.framework] = summarise(**times[worker.framework], shape=shape, info=infos[worker.framework])
    rate = {name: entry.get("characters_per_second") for name, entry in results.items()}
    ratios = {f"seqlab_vs_{other}": round(rate["seqlab"] / rate[other], 3) if rate.get("seqlab") and rate.get(other)
              else None for other in ("torch", "keras")}
    return {"shape": asdict(shape), "frameworks": {name: results[name] for name in FRAMEWORKS}, "ratios": ratios}


def run_benchmark(quick: bool = False, method: Method | None = None, progress=print, checkpoint=None) -> dict:
    """The whole comparison as one JSON-ready dict; `checkpoint(report)` after each shape keeps partial figures."""
    flags = bfloat16_support()
    if method is None:
        threads = len(os.sched_getaffinity(0))
        method = Method(threads=threads, inter_op_threads=min(2, threads))  # Keras's and torch's defaults
        if quick:
            method = replace(method, warmup_steps=1, rounds=2, steps_per_round=2)
    torch_available = importlib.util.find_spec("torch") is not None
    report = {"benchmark": "training", "quick": quick, "complete": False,
              "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine_info(), "method": {
                  **asdict(method), "timed_steps_per_framework": method.rounds * method.steps_per_round,
                  "statistic": "median step time over the timed steps; characters/s = batch x sequence / median",
                  "data": f"random ids from a {VOCABULARY_SIZE}-character vocabulary, {DISTINCT_BATCHES} batches "
                          "cycled, identical for every framework",
                  "order": "interleaved: each round runs every framework in turn, after all have warmed up",
                  "clipping": "seqlab: global norm; plain Keras: Adam(clipnorm) per variable; torch: "
                              "clip_grad_norm_ (global)",
                  "bfloat16": "Keras mixed_bfloat16 policy vs torch.autocast(cpu, bfloat16)" if flags else
                              "skipped: the CPU has neither avx512_bf16 nor amx_bf16"},
              "results": []}
    for shape in quick_shapes() if quick else full_shapes(bfloat16=bool(flags)):
        progress(f"{shape.name} ({shape.precision}) …")
        report["results"].append(benchmark_shape(shape, method, torch_available, progress))
        report["machine"]["load_average_at_end"] = list(os.getloadavg())
        report["warning"] = load_warning(report["machine"])
        if checkpoint is not None:
            checkpoint(report)
    report["complete"] = True
    return report


def load_warning(machine: dict) -> str | None:
    """Say so when other programs oversubscribed the CPU: PyTorch's OpenMP threads then wait at every barrier."""
    busiest = max(machine["load_average_at_start"][0], machine.get("load_average_at_end", [0])[0])
    if busiest <= machine["usable_cores"]:
        return None
    return (f"load average {busiest:.1f} on {machine['usable_cores']} cores: the CPU was shared. TensorFlow degrades "
            "gracefully, PyTorch's OpenMP kernels do not (CPU time per step grows several-fold): rerun on a quiet "
            "machine before reading the torch ratios")


def format_report(report: dict) -> str:
    """A table of characters/s per framework and the ratios, for people."""
    lines = [f"{'shape':<26} {'precision':<9} {'seqlab':>9} {'keras':>9} {'torch':>9} {'/torch':>7} {'/keras':>7}"]
    for result in report["results"]:
        shape, frameworks = result["shape"], result["frameworks"]
        rates = [f"{frameworks[name]['characters_per_second']:>9,.0f}" if "characters_per_second" in
                 frameworks[name] else f"{'n/a':>9}" for name in FRAMEWORKS]
        ratios = [f"{value:>7.2f}" if value else f"{'n/a':>7}" for value in result["ratios"].values()]
        lines.append(f"{shape['name']:<26} {shape['precision']:<9} {' '.join(rates)} {' '.join(ratios)}")
    method = report["method"]
    if report.get("warning"):
        lines.append("warning: " + report["warning"])
    lines.append(f"characters/s (median of {method['timed_steps_per_framework']} timed steps per framework, "
                 f"{method['threads']} intra-op / {method['inter_op_threads']} inter-op threads; seqlab: its "
                 "trainer's own, inter-op 1); "
                 "ratios are seqlab ÷ torch and seqlab ÷ plain Keras")
    return "\n".join(lines)


def command_bench_training(args) -> None:
    """`bench training`: prints the JSON on stdout (the table on stderr) and writes it to --out."""
    out = output_path(args.out, args.quick, "training")
    write = writer(out)  # after every shape too
    report = run_benchmark(quick=args.quick, progress=lambda text: print(text, file=sys.stderr, flush=True),
                           checkpoint=write)
    write(report)
    print(json.dumps(report, indent=2))
    print(format_report(report), file=sys.stderr)
    if out is not None:
        print(f"written to {out}", file=sys.stderr)


def add_training_command(bench_commands) -> None:
    """Registers `training` under `bench` (called from bench/__main__.py)."""
    parser = bench_commands.add_parser("training", help="training steps/s of seqlab vs plain Keras vs PyTorch")
    parser.add_argument("--quick", action="store_true", help="a tiny shape in under a minute (smoke test); "
                        "writes a file only with --out")
    parser.add_argument("--out", help="JSON file to write (default: bench/results/training.json in the checkout)")
    parser.set_defaults(handler=command_bench_training)
