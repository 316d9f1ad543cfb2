"""The Ray backend (SEQLAB_BACKEND=ray): each run trains as a Ray Job on a cluster, submitted to the head's job
server at SEQLAB_RAY_ADDRESS through `ray.job_submission.JobSubmissionClient`.

The job's entrypoint is the very worker command the local backend starts (`processes.worker_command`), so a run
trains the same way wherever it lands; the run folder it writes must therefore be on a folder every node sees at
the same path (docs/cluster.md). A job asks for CPUS_PER_RUN CPUs and, on a cluster with GPUs, GPU_SHARE of a GPU,
so Ray places it where those are free and never oversubscribes a node; seqlab trains as many runs at once as the
cluster's nodes offer such shares (a run waits in Ray, PENDING, while another tenant holds them).

A job is named by its submission id: the run id and the time the run was queued. Resume queues the run again with
a new time, so it gets a new id (Ray refuses a reused one); two app replicas that launch the same queued run at
once derive the same id, so Ray itself refuses the second and only one worker starts (no file lock across machines
is needed for that). Liveness is the job's status, stop is `stop_job` (Ray sends SIGTERM, then SIGKILL after
KILL_AFTER_SECONDS). A cluster that cannot be reached is a SeqlabError in plain words where a caller acts (launch,
capacity); watching a run through an outage never marks it interrupted, so nothing saved is lost. No TensorFlow.
"""

from __future__ import annotations

import os
import shlex
import time
from pathlib import Path

from seqlab import settings
from seqlab.errors import SeqlabError
from seqlab.runs import processes, run_folder

NAME = "ray"
ALIVE = frozenset({"PENDING", "RUNNING"})  # Ray's JobStatus values while a job may still train
CPUS_PER_RUN = 2  # as the local rule: one recurrent training keeps about two cores busy
GPU_SHARE = 0.5  # on a cluster with GPUs, two runs share one (a small recurrent model does not fill it)
KILL_AFTER_SECONDS = 2  # Ray's wait between SIGTERM and SIGKILL on stop_job, the local backend's wait too
CAPACITY_SECONDS = 2.0  # the app asks for capacity on every refresh: the cluster is asked at most this often
_clients: dict[str, object] = {}  # address -> JobSubmissionClient: it checks the cluster once when made


def unreachable(address: str, reason: object) -> SeqlabError:
    """The message for a cluster that does not answer: what happened, what was expected, how to fix it."""
    return SeqlabError(f"The Ray cluster at {address} cannot be reached ({str(reason).splitlines()[0][:200]})",
                       "a running Ray head whose job server (the dashboard, port 8265) answers at SEQLAB_RAY_ADDRESS",
                       "start it (`ray start --head --dashboard-host 0.0.0.0`, docs/cluster.md), correct "
                       "SEQLAB_RAY_ADDRESS, or set SEQLAB_BACKEND=local to train on this computer; queued runs "
                       "stay queued and nothing saved is lost")


def client(address: str):
    """One JobSubmissionClient per address, made on first use (making one asks the cluster for its version)."""
    if address not in _clients:
        try:
            from ray.job_submission import JobSubmissionClient
        except ImportError:
            raise SeqlabError("SEQLAB_BACKEND is ray but Ray is not installed", "Ray (requirements-cluster.txt)",
                              "pip install -r requirements-cluster.txt, or set SEQLAB_BACKEND=local") from None
        try:
            _clients[address] = JobSubmissionClient(address)
        except (OSError, RuntimeError, ValueError, ConnectionError) as error:
            raise unreachable(address, error) from None
    return _clients[address]


def submission_id(run_dir: Path) -> str:
    """The run id and the millisecond it was queued: new on each resume, the same for two launches of one queue."""
    queued_at = run_folder.read_status(run_dir).get("queued_at")
    stamp = int(float(queued_at) * 1000) if isinstance(queued_at, int | float) else int(time.time() * 1000)
    return f"seqlab-{Path(run_dir).name}-{stamp}"


def worker_environment(address: str) -> dict[str, str]:
    """What the worker needs to find on whichever node it lands: this process's SEQLAB_* settings (the runs root,
    caches, memory limits), the backend and cluster (its exit moves the queue through the same cluster), its share
    of threads, this checkout on PYTHONPATH when seqlab runs from one, and Ray's SIGTERM-to-SIGKILL wait."""
    env = {name: value for name, value in os.environ.items() if name.startswith("SEQLAB_")}
    env.update({settings.BACKEND_VARIABLE: NAME, settings.RAY_ADDRESS_VARIABLE: address,
                settings.THREADS_VARIABLE: str(CPUS_PER_RUN), "RAY_JOB_STOP_WAIT_TIME_S": str(KILL_AFTER_SECONDS)})
    env.update(processes._checkout_path())
    return env


def _max_jobs_override() -> int | None:
    """$SEQLAB_MAX_JOBS, if set, caps the runs seqlab trains at once on the cluster too (validated by settings)."""
    return settings.max_jobs() if os.environ.get(settings.MAX_JOBS_VARIABLE, "").strip() else None


class RayBackend:
    """Runs as Ray Jobs on the cluster whose job server answers at `address` (http://head:8265)."""

    name = NAME

    def __init__(self, address: str) -> None:
        self.address = address.rstrip("/")
        self.where = f"Ray cluster {self.address}"
        self._capacity: tuple[float, int] | None = None  # (when asked, the answer)

    def _client(self):
        return client(self.address)

    def _forget_client(self) -> None:
        _clients.pop(self.address, None)  # a head that restarted needs a fresh client

    def launch(self, run_dir: Path, root: Path) -> dict:
        run_dir, job_id = Path(run_dir), submission_id(run_dir)
        fields = {"backend": NAME, "where": self.where, "ray_address": self.address, "ray_submission_id": job_id}
        resources = {"entrypoint_num_cpus": CPUS_PER_RUN}
        if self._cluster_resources().get("GPU", (0.0, 0.0))[1] > 0:
            resources["entrypoint_num_gpus"] = GPU_SHARE
        log = shlex.quote(str(run_dir / run_folder.LOG))  # the worker's output in its run folder, as locally
        entrypoint = f"exec {shlex.join(processes.worker_command(run_dir, root))} >> {log} 2>&1"
        try:
            self._client().submit_job(entrypoint=entrypoint, submission_id=job_id,
                                      metadata={"seqlab_run": run_dir.name},
                                      runtime_env={"env_vars": worker_environment(self.address)}, **resources)
        except RuntimeError as error:
            if "already exists" not in str(error):  # another replica launched this very queue entry: that job
                raise SeqlabError(f"The Ray cluster at {self.address} refused run {run_dir.name} ({error})",
                                  "a job the cluster accepts", "see the head's dashboard logs, or set "
                                  "SEQLAB_BACKEND=local") from None
        except OSError as error:
            self._forget_client()
            raise unreachable(self.address, error) from None
        return fields

    def job_status(self, status: dict) -> str | None:
        """Ray's status of the run's job ("RUNNING", "FAILED", ...); None if the cluster does not know the job;
        "UNREACHABLE" if it cannot be asked."""
        job_id = status.get("ray_submission_id")
        if not isinstance(job_id, str):
            return None
        try:
            return str(self._client().get_job_status(job_id).value)
        except SeqlabError:
            return "UNREACHABLE"
        except OSError:
            self._forget_client()
            return "UNREACHABLE"
        except RuntimeError as error:
            return None if "404" in str(error) or "does not exist" in str(error) else "UNREACHABLE"

    def is_alive(self, status: dict) -> bool:
        """Pending or running on the cluster. A cluster that cannot be asked counts as alive: an outage of the
        head must not turn every run into `interrupted` (the app shows the error when it next acts)."""
        return self.job_status(status) in ALIVE | {"UNREACHABLE"}

    def end(self, status: dict, run_dir: Path, force: bool) -> None:
        """stop_job: Ray sends SIGTERM, then SIGKILL after KILL_AFTER_SECONDS, so a forced end asks once more (a
        no-op if the first is under way). Never an error: the job may be gone, or the cluster out of reach."""
        if self.job_status(status) not in ALIVE:
            return
        try:
            self._client().stop_job(status["ray_submission_id"])
        except (OSError, RuntimeError, SeqlabError):
            pass

    def _cluster_resources(self) -> dict[str, tuple[float, float]]:
        """{"CPU": (used, total), "GPU": ...} from the head's cluster status (what `ray status` shows)."""
        try:
            response = self._client()._do_request("GET", "/api/cluster_status")
            usage = response.json()["data"]["clusterStatus"]["loadMetricsReport"]["usage"]
        except OSError as error:
            self._forget_client()
            raise unreachable(self.address, error) from None
        except (ValueError, KeyError, TypeError):
            return {}
        return {name: (float(pair[0]), float(pair[1])) for name, pair in usage.items()
                if isinstance(pair, list) and len(pair) == 2}

    def capacity(self) -> int:
        """How many runs may train at once: what the cluster's live nodes offer (its CPUs / CPUS_PER_RUN and, where
        it has GPUs, its GPUs / GPU_SHARE), at most $SEQLAB_MAX_JOBS if set; asked at most every CAPACITY_SECONDS.
        Totals, not the free share of the moment: Ray reports a stopped job's CPUs free a second or more late, and
        a run launched while another tenant holds the CPUs simply waits in Ray (PENDING) until they are free."""
        override = _max_jobs_override()
        if override is not None:
            return override
        now = time.monotonic()
        if self._capacity is None or now - self._capacity[0] > CAPACITY_SECONDS:
            resources = self._cluster_resources()
            room = int(resources.get("CPU", (0.0, float(CPUS_PER_RUN)))[1] // CPUS_PER_RUN)
            gpus = resources.get("GPU", (0.0, 0.0))[1]
            if gpus > 0:
                room = min(room, int(gpus // GPU_SHARE))
            self._capacity = (now, max(1, room))
        return self._capacity[1]

    def reap(self) -> None:
        """Nothing to collect: Ray's job supervisor reaps the worker process on its node."""
