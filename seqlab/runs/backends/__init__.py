"""Where runs train: the backend the settings choose for new runs (`current`), the one that runs a given run
(`for_status`: the backend named in its status.json, whatever the setting is now), and both in words (`describe`).

`local` (processes on this computer, local.py) is the default and needs nothing installed; `ray`
(SEQLAB_BACKEND=ray, ray_jobs.py) is imported only when asked for, so Ray is never needed otherwise. The interface
and why it looks as it does: base.py. No TensorFlow here: the app's pages import this through the job runner.
"""

from __future__ import annotations

from seqlab import settings
from seqlab.errors import SeqlabError
from seqlab.runs.backends.base import JobBackend
from seqlab.runs.backends.local import WHERE as LOCAL_WHERE
from seqlab.runs.backends.local import LocalBackend

__all__ = ["JobBackend", "current", "describe", "for_status"]

ADDRESS_FIELD = "ray_address"  # a Ray job's status may name its cluster; else the configured address is asked
_made: dict[tuple[str, str], JobBackend] = {}  # one object per backend and address: a Ray client connects once


def _backend(name: str, address: str = "") -> JobBackend:
    if (name, address) not in _made:
        if name == "ray":
            from seqlab.runs.backends import ray_jobs  # only here: Ray is an extra (requirements-cluster.txt)

            _made[(name, address)] = ray_jobs.RayBackend(address)
        else:
            _made[(name, address)] = LocalBackend()
    return _made[(name, address)]


def current() -> JobBackend:
    """The backend new runs are launched on: settings.backend() (SEQLAB_BACKEND; SeqlabError for an unknown one)."""
    name = settings.backend()
    return _backend(name, settings.ray_address() if name == "ray" else "")


def for_status(status: dict) -> JobBackend:
    """The backend that runs (or ran) the run with this status: its "backend" field; a status written by a seqlab
    from before backends (no such field) is a local one. A Ray job is asked at its `ray_address` if the status
    names one, else at settings.ray_address()."""
    name = status.get("backend") or "local"
    if name == "local":
        return _backend("local")
    if name == "ray":
        return _backend("ray", str(status.get(ADDRESS_FIELD) or settings.ray_address()))
    raise SeqlabError(f"The run's status.json names the backend '{name}'", "local or ray",
                      "resume the run to start it again on this seqlab's backend, or delete it")


def describe(status: dict) -> str:
    """Which backend runs (or ran) the run, and where, as the app and the CLI say it: "local (this computer)",
    "ray (Ray cluster http://head:8265)"; "" for a run that was never launched."""
    name = status.get("backend")
    if not name:
        return f"local ({LOCAL_WHERE})" if status.get("pid") else ""
    where = status.get("where")
    return f"{name} ({where})" if where else str(name)
