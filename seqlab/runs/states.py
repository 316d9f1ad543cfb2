"""The states of a training run, as written in its status.json, and the groups of them the code asks about.

    queued → running → finished                the usual life of a run
    running → stopping → stopped               Stop pressed (a queued run goes straight to stopped)
    running → failed                           the trainer caught an error (a NaN loss, a bad corpus, ...);
                                               a queued run whose process cannot be started fails too
    running → interrupted                      its process died (killed, crashed, the machine rebooted)
    stopped / interrupted / failed → queued    Resume
    damaged                                    status.json is missing or garbled (read so, never written)

`RunState` is a `StrEnum`: a member equals its string ("running" == RunState.RUNNING), so statuses read back
from JSON (plain strings) compare with it directly, and `json.dumps` writes a member as its string.
"""

from __future__ import annotations

import enum


class RunState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FINISHED = "finished"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    DAMAGED = "damaged"


WRITTEN = frozenset(RunState) - {RunState.DAMAGED}
"""The states a status.json may hold; anything else there reads as damaged."""

ACTIVE = frozenset({RunState.QUEUED, RunState.RUNNING, RunState.STOPPING})
"""Not over yet: the app keeps polling it, it cannot be deleted, and a returning visitor is shown it."""

LIVE = frozenset({RunState.RUNNING, RunState.STOPPING})
"""A worker process should exist: it counts against the concurrent-jobs limit, and a dead one is reconciled."""

FINAL = frozenset({RunState.FINISHED, RunState.STOPPED, RunState.FAILED, RunState.INTERRUPTED})
"""Ended: nothing changes it any more until someone resumes it; followers (CLI, wait_for) stop waiting."""

RESUMABLE = frozenset({RunState.STOPPED, RunState.INTERRUPTED, RunState.FAILED})
"""Ended before its budget ran out: Resume continues it from its last checkpoint (a finished run is complete)."""

TROUBLED = frozenset({RunState.FAILED, RunState.INTERRUPTED, RunState.DAMAGED})
"""Something went wrong: status["error"] says what, and the app and the CLI show it with the run."""
