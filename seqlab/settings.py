"""Every SEQLAB_* environment variable, read here and nowhere else (this list is their documentation).

    variable                 default                                  what it does
    SEQLAB_RUNS              $XDG_DATA_HOME/seqlab/runs               the runs root: one folder per training run
                             (else ~/.local/share/seqlab/runs)        (the CLI's --runs-root overrides it)
    SEQLAB_CACHE             $XDG_CACHE_HOME/seqlab                   downloaded corpora, fetched once per machine
                             (else ~/.cache/seqlab)
    SEQLAB_IMDB_URL          unset: Stanford's address                where the Data page and `download imdb-full`
                                                                      fetch the full IMDb archive (a school's mirror)
    SEQLAB_KERNEL_CACHE      $XDG_CACHE_HOME/seqlab-kernels           the compiled recurrent kernels, built once per
                             (else ~/.cache/seqlab-kernels)           source, TensorFlow version and CPU
    SEQLAB_NATIVE            1                                        0 switches the compiled kernels off: plain
                                                                      TensorFlow ops, same maths, slower
    SEQLAB_SEQUENCE_KERNELS  1                                        0 switches the whole-sequence kernels off (the
                                                                      per-step kernels remain), to compare the two
    SEQLAB_THREADS           unset: TensorFlow's own choice           intra-op threads of a training process; the job
                                                                      runner sets it for each worker it starts
    SEQLAB_MAX_JOBS          half the CPU cores, at least 1, plus     trainings that run at once; more wait in the
                             one per GPU (local backend)              queue (a whole number of at least 1)
    SEQLAB_MAX_CHARACTERS    5000                                     the most distinct characters a text may have to
                                                                      train a generator (enough for Chinese or Japanese)
    SEQLAB_WORKSPACES        on                                       off: one shared workspace for every browser (a
                                                                      personal laptop); on: each browser sees only its
                                                                      own runs and uploads
    SEQLAB_TEACHER_PASSWORD  unset (also: teacher_password in         unlocks the Teacher page: every workspace's runs,
                             .streamlit/secrets.toml)                 a leaderboard, Stop for any run
    SEQLAB_RUNS_PER_WORKSPACE 2                                       queued + active runs one workspace may have
    SEQLAB_APP_RUN_SECONDS   900                                      the longest a run started from the app trains
                                                                      (0: no limit); CLI runs are not limited
    SEQLAB_LESSON_SECONDS    60                                       the Lesson page's budget: each cell-type race run
                                                                      trains this long, each memory-probe run half of
                                                                      it (about 10 minutes in all on 2 cores); 2
                                                                      rehearses the lesson in about a minute
    SEQLAB_MAX_JOB_MEMORY_MB 4096                                     the most memory (MB) one training run may need
                                                                      by its estimate (seqlab/model/memory.py); a run
                                                                      needing more is refused before it starts
    SEQLAB_WORKER_ADDRESS_SPACE_MB                                    the address-space limit (MB) of a worker process
                             2 x the job cap + 4096 + 256 per core;   (RLIMIT_AS, POSIX only; none on Windows); 0 = no
                             0 where an NVIDIA GPU is present         limit. TensorFlow reserves far more than it uses
    SEQLAB_BACKEND           local                                    where runs train: local (processes on this
                                                                      computer) or ray (jobs on a Ray cluster)
    SEQLAB_RAY_ADDRESS       http://127.0.0.1:8265                    the Ray cluster's job server, with
                                                                      SEQLAB_BACKEND=ray (docs/cluster.md)
    SEQLAB_PORTABLE_PROCESSES unset                                   1: start and end workers as on Windows (no POSIX
                                                                      sessions or process groups), for tests
    SEQLAB_DEBUG             unset                                    any value: the CLI shows the traceback of an
                                                                      internal error instead of one line

Each is read when its function is called, never at import, so a test's `monkeypatch.setenv` takes effect.
"""

from __future__ import annotations

import os
from pathlib import Path

from seqlab.errors import SeqlabError

RUNS_VARIABLE = "SEQLAB_RUNS"
CACHE_VARIABLE = "SEQLAB_CACHE"
KERNEL_CACHE_VARIABLE = "SEQLAB_KERNEL_CACHE"
NATIVE_VARIABLE = "SEQLAB_NATIVE"
SEQUENCE_KERNELS_VARIABLE = "SEQLAB_SEQUENCE_KERNELS"
THREADS_VARIABLE = "SEQLAB_THREADS"
MAX_JOBS_VARIABLE = "SEQLAB_MAX_JOBS"
DEBUG_VARIABLE = "SEQLAB_DEBUG"
MAX_CHARACTERS_VARIABLE = "SEQLAB_MAX_CHARACTERS"
MAX_JOB_MEMORY_VARIABLE = "SEQLAB_MAX_JOB_MEMORY_MB"
WORKER_ADDRESS_SPACE_VARIABLE = "SEQLAB_WORKER_ADDRESS_SPACE_MB"
WORKSPACES_VARIABLE = "SEQLAB_WORKSPACES"
PORTABLE_PROCESSES_VARIABLE = "SEQLAB_PORTABLE_PROCESSES"
TEACHER_PASSWORD_VARIABLE = "SEQLAB_TEACHER_PASSWORD"
RUNS_PER_WORKSPACE_VARIABLE = "SEQLAB_RUNS_PER_WORKSPACE"
APP_RUN_SECONDS_VARIABLE = "SEQLAB_APP_RUN_SECONDS"
LESSON_SECONDS_VARIABLE = "SEQLAB_LESSON_SECONDS"
BACKEND_VARIABLE = "SEQLAB_BACKEND"
RAY_ADDRESS_VARIABLE = "SEQLAB_RAY_ADDRESS"
IMDB_URL_VARIABLE = "SEQLAB_IMDB_URL"
BACKENDS = ("local", "ray")
DEFAULT_RAY_ADDRESS = "http://127.0.0.1:8265"


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache")


def runs_root() -> Path:
    """The runs root as configured (not created, not resolved): $SEQLAB_RUNS, else $XDG_DATA_HOME/seqlab/runs,
    else ~/.local/share/seqlab/runs. `run_folder.runs_root` puts a --runs-root flag before it and creates it."""
    if os.environ.get(RUNS_VARIABLE):
        return Path(os.environ[RUNS_VARIABLE])
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data_home / "seqlab" / "runs"


def corpus_cache() -> Path:
    """Where downloaded corpora are kept (not created): $SEQLAB_CACHE, else $XDG_CACHE_HOME/seqlab, else
    ~/.cache/seqlab. Tests point it at a fresh folder each."""
    return Path(os.environ.get(CACHE_VARIABLE) or _cache_home() / "seqlab").expanduser()


def imdb_mirror() -> str:
    """$SEQLAB_IMDB_URL: where the app and `seqlab download imdb-full` fetch aclImdb_v1.tar.gz instead of Stanford
    (a school's own copy on its network; "" = Stanford). Set by the operator, never by a browser, so a mirror on a
    private address is allowed."""
    return os.environ.get(IMDB_URL_VARIABLE, "").strip()


def kernel_cache() -> Path:
    """Where the compiled kernel library is kept: $SEQLAB_KERNEL_CACHE, else $XDG_CACHE_HOME/seqlab-kernels, else
    ~/.cache/seqlab-kernels. Apart from the corpus cache, which tests replace: a ~20 s build is worth keeping."""
    return Path(os.environ.get(KERNEL_CACHE_VARIABLE) or _cache_home() / "seqlab-kernels").expanduser()


def native_kernels_on() -> bool:
    """False when SEQLAB_NATIVE=0: no compiled kernels, plain TensorFlow ops. Default: on."""
    return os.environ.get(NATIVE_VARIABLE, "1") != "0"


def sequence_kernels_on() -> bool:
    """False when SEQLAB_SEQUENCE_KERNELS=0: the compiled per-step kernels only, not the whole-sequence ones.
    Default: on (where the CPU and the layer allow them)."""
    return os.environ.get(SEQUENCE_KERNELS_VARIABLE, "1") != "0"


def worker_threads() -> int:
    """$SEQLAB_THREADS: the intra-op threads a training process may use, set by the job runner for each worker;
    0 (unset or empty) leaves TensorFlow's own choice."""
    return int(os.environ.get(THREADS_VARIABLE, "0") or 0)


def max_jobs(gpus: int = 0) -> int:
    """$SEQLAB_MAX_JOBS, else half the cores (at least 1) plus `gpus` (one more run per GPU the local backend
    found: a run there keeps its GPU busy, not the cores): one recurrent training job keeps a core or two busy.
    Anything but a whole number of at least 1 is refused with a SeqlabError."""
    value = os.environ.get(MAX_JOBS_VARIABLE, "").strip()
    if not value:
        return max(1, (os.cpu_count() or 2) // 2) + max(0, gpus)
    if not value.isdigit() or int(value) < 1:
        raise SeqlabError(f"{MAX_JOBS_VARIABLE} is '{value}'", "a whole number of at least 1",
                          f"set {MAX_JOBS_VARIABLE}=1, or unset it to use half the CPU cores")
    return int(value)


def _whole_megabytes(variable: str, default: int, low: int, example: str) -> int:
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < low:
        raise SeqlabError(f"{variable} is '{value}'", f"a whole number of megabytes, at least {low}",
                          f"set {variable}={example}, or unset it")
    return int(value)


def max_job_memory_bytes() -> int:
    """$SEQLAB_MAX_JOB_MEMORY_MB in bytes (1 MB = 2**20), else 4096 MB: the most memory one run may need by its
    estimate. Anything but a whole number of at least 1 is refused with a SeqlabError."""
    return _whole_megabytes(MAX_JOB_MEMORY_VARIABLE, 4096, 1, "4096") * 2**20


def worker_address_space_bytes() -> int:
    """$SEQLAB_WORKER_ADDRESS_SPACE_MB in bytes: the address-space limit of each worker process; 0 = none. Default:
    twice the job cap + 4 GB + 256 MB per core (TensorFlow reserves far more address space than it touches: VmPeak
    was 2.9 GB for a 750 MB worker, 7.3 GB for a 3.9 GB one), and none where an NVIDIA GPU is present (CUDA
    reserves address space by the terabyte)."""
    if os.environ.get(WORKER_ADDRESS_SPACE_VARIABLE, "").strip():
        return _whole_megabytes(WORKER_ADDRESS_SPACE_VARIABLE, 0, 0, "0") * 2**20
    if os.path.exists("/dev/nvidiactl"):
        return 0
    return 2 * max_job_memory_bytes() + (4096 + 256 * (os.cpu_count() or 1)) * 2**20


def debug() -> bool:
    """True when SEQLAB_DEBUG is set to anything non-empty: the CLI re-raises internal errors (a traceback)
    instead of printing one line. Default: off."""
    return bool(os.environ.get(DEBUG_VARIABLE))


def max_characters() -> int:
    """The most distinct characters a generation corpus may have: $SEQLAB_MAX_CHARACTERS, else 5,000. Each one
    is an output of the model, so a text of a million distinct characters would need a multi-gigabyte layer."""
    value = os.environ.get(MAX_CHARACTERS_VARIABLE, "").strip()
    if not value:
        return 5000
    if not value.isdigit() or int(value) < 2:
        raise SeqlabError(f"{MAX_CHARACTERS_VARIABLE} is '{value}'", "a whole number of at least 2",
                          f"set {MAX_CHARACTERS_VARIABLE}=5000, or unset it")
    return int(value)


def _whole_number(variable: str, default: int, lowest: int, fix: str) -> int:
    """A whole-number variable: its default when unset; a SeqlabError for anything below `lowest` or not a number."""
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < lowest:
        raise SeqlabError(f"{variable} is '{value}'", f"a whole number of at least {lowest}", fix)
    return int(value)


def workspaces_on() -> bool:
    """$SEQLAB_WORKSPACES: on (the default) gives each browser its own workspace; off shares one among all, as on a
    personal laptop. Anything else is refused, so a typo never opens a class's runs to everyone."""
    value = os.environ.get(WORKSPACES_VARIABLE, "on").strip().lower() or "on"
    if value not in ("on", "off"):
        raise SeqlabError(f"{WORKSPACES_VARIABLE} is '{value}'", "on or off",
                          f"set {WORKSPACES_VARIABLE}=on (a shared server) or off (a personal laptop)")
    return value == "on"


def teacher_password() -> str:
    """$SEQLAB_TEACHER_PASSWORD ('' when unset: the Teacher page stays locked). Streamlit secrets are read by the
    app's glue (seqlab/ui/teacher_view.py), which falls back to this."""
    return os.environ.get(TEACHER_PASSWORD_VARIABLE, "")


def max_runs_per_workspace() -> int:
    """$SEQLAB_RUNS_PER_WORKSPACE, else 2: queued plus active runs one workspace may have at a time."""
    return _whole_number(RUNS_PER_WORKSPACE_VARIABLE, 2, 1, f"set {RUNS_PER_WORKSPACE_VARIABLE}=2, or unset it")


def max_app_run_seconds() -> int:
    """$SEQLAB_APP_RUN_SECONDS, else 900 (15 minutes): the time budget every run started from the app gets at
    most, so that no browser holds a training slot for days. 0: no limit."""
    return _whole_number(APP_RUN_SECONDS_VARIABLE, 900, 0, f"set {APP_RUN_SECONDS_VARIABLE}=900, or unset it")


def lesson_seconds() -> int:
    """$SEQLAB_LESSON_SECONDS, else 60: how long each run of the Lesson page's cell-type race trains; each run of
    its memory probe trains half of it (at least 2 s: 30 s lets the LSTM recall a letter 40 steps back). The
    default fits the whole lesson (3 race runs, 12 probe runs, one at a time) in about 10 minutes on 2 cores; 2
    rehearses it in about a minute."""
    return _whole_number(LESSON_SECONDS_VARIABLE, 60, 2, f"set {LESSON_SECONDS_VARIABLE}=60, or unset it")


def portable_processes() -> bool:
    """SEQLAB_PORTABLE_PROCESSES=1: the job runner starts and ends workers the way it does on Windows (psutil alone,
    no POSIX sessions or process groups), so that the portable path is tested on Linux too. Default: off."""
    return os.environ.get(PORTABLE_PROCESSES_VARIABLE, "") == "1"


def backend() -> str:
    """$SEQLAB_BACKEND: "local" (the default: a process on this computer per run, nothing to install) or "ray" (a
    job on the Ray cluster at ray_address()). Anything else is refused, so a typo never silently trains locally."""
    value = os.environ.get(BACKEND_VARIABLE, "").strip().lower() or "local"
    if value not in BACKENDS:
        raise SeqlabError(f"{BACKEND_VARIABLE} is '{value}'", " or ".join(BACKENDS),
                          f"set {BACKEND_VARIABLE}=local (this computer) or ray (a Ray cluster), or unset it")
    return value


def ray_address() -> str:
    """$SEQLAB_RAY_ADDRESS, else http://127.0.0.1:8265: the job server of the Ray cluster that trains the runs when
    SEQLAB_BACKEND=ray (a head started on this computer, by default)."""
    return os.environ.get(RAY_ADDRESS_VARIABLE, "").strip() or DEFAULT_RAY_ADDRESS
