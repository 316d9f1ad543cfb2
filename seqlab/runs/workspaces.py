"""Workspaces: whose run is it? One server, a room of browsers, and nobody sees or stops anyone else's runs.

Each browser works in its own workspace, a random id it keeps in a cookie (seqlab/ui/workspace.py). A run's owner
is written once, when the run is created, to `owner.json` in its folder — beside a random share token that opens
the run read-only to whoever has the link. The worker never touches that file, and a run without one (made by the
CLI, or before workspaces existed) belongs to the operator.

Who may do what is decided here, for every caller, by a `Viewer`:
    a browser's workspace      sees and controls its own runs; reads the runs it holds a share link to
    the operator (workspace None: the CLI, the teacher view, or a server with isolation off)
                               sees and controls every run
Knowing a run id grants nothing: a run outside the viewer's reach gets the same message as a run that does not
exist. Uploads live in a folder of their own per workspace, named by a hash of the id so that a stored path (in a
run's downloadable settings) never gives the id away.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from seqlab import settings
from seqlab.errors import SeqlabError
from seqlab.runs import run_folder, states
from seqlab.runs.storage import write_json_atomic

OWNER = "owner.json"
UPLOADS = ".uploads"  # dot-folder inside the runs root: never listed as a run
WORKSPACE_ID = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
SHARE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class Viewer:
    """Who is asking. `workspace` None is the operator, who reaches every run; `from_browser` runs get the
    operator's limits (per-workspace cap, time cap); `shared_runs` are the run ids this browser opened through a
    share link (read-only)."""

    workspace: str | None
    from_browser: bool = True
    shared_runs: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_operator(self) -> bool:
        return self.workspace is None


OPERATOR = Viewer(workspace=None, from_browser=False)  # the CLI: it acts on the whole runs root


def new_workspace_id() -> str:
    """32 random URL-safe characters (192 bits): unguessable, fit for a cookie."""
    return secrets.token_urlsafe(24)


def is_workspace_id(text: object) -> bool:
    return isinstance(text, str) and bool(WORKSPACE_ID.match(text))


def write_owner(run_dir: Path, workspace: str | None) -> None:
    """Record who owns a new run, with a fresh share token. Called once, before the run is queued."""
    write_json_atomic(Path(run_dir) / OWNER, {"workspace": workspace, "share_token": secrets.token_urlsafe(18)})


def _owner_record(run_dir: Path) -> dict:
    try:
        record = json.loads((Path(run_dir) / OWNER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def owner_of(run_dir: Path) -> str | None:
    """The workspace that owns the run; None for the operator's runs (CLI, older runs, an unreadable owner file)."""
    workspace = _owner_record(run_dir).get("workspace")
    return workspace if is_workspace_id(workspace) else None


def share_token(run_dir: Path) -> str | None:
    token = _owner_record(run_dir).get("share_token")
    return token if isinstance(token, str) and SHARE_TOKEN.match(token) else None


def share_matches(run_dir: Path, token: str) -> bool:
    """True when `token` is the run's share token (compared in constant time)."""
    expected = share_token(run_dir)
    return bool(expected and isinstance(token, str) and hmac.compare_digest(expected, token))


def can_control(viewer: Viewer, workspace: str | None) -> bool:
    """Stop, resume, delete, download: the operator, or the owning workspace."""
    return viewer.is_operator or (workspace is not None and workspace == viewer.workspace)


def can_read(viewer: Viewer, workspace: str | None, run_id: str) -> bool:
    """Charts, samples, generate, score: whoever can control it, or holds its share link."""
    return can_control(viewer, workspace) or run_id in viewer.shared_runs


def visible_runs(viewer: Viewer, items: list[dict]) -> list[dict]:
    """The rows of jobs.list_runs this viewer may list: its own (the operator: all). Shared runs are opened by
    link, never listed."""
    return [item for item in items if can_control(viewer, item.get("workspace"))]


def no_such_run(run_id: str) -> SeqlabError:
    """One message for a run that does not exist and a run of another workspace: an id gives nothing away."""
    return SeqlabError(f"There is no run '{run_id}' in your workspace", "the id of one of your runs, or a share link",
                       "pick one of your runs on the Runs page, or ask the run's owner for its share link")


def run_for(viewer: Viewer, run_id: str, root: Path | None = None, control: bool = False) -> Path:
    """The run's folder if this viewer may read it (or, with `control`, stop/resume/delete/download it)."""
    run_folder.check_run_id(run_id)  # a malformed id says so: it names no run
    try:
        path = run_folder.run_in_root(run_id, root)
    except SeqlabError:
        raise no_such_run(run_id) from None
    owner = owner_of(path)
    allowed = can_control(viewer, owner) if control else can_read(viewer, owner, path.name)
    if not allowed:
        raise no_such_run(run_id)
    return path


def _experiment_id(run_dir: Path) -> str | None:
    """The id of the lesson experiment (race, probe) a run belongs to, from its experiment.json; None if none."""
    try:
        record = json.loads((run_dir / run_folder.EXPERIMENT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record.get("id") if isinstance(record, dict) and isinstance(record.get("id"), str) else None


def check_room(viewer: Viewer, root: Path, experiment_id: str | None = None) -> None:
    """Refuse a new run when the viewer's workspace already has its share of queued and active runs. The caller
    holds the scheduler lock, so two clicks at once cannot both pass.

    A lesson experiment (a race of three runs, a probe of up to 24) takes one place in the share however many runs
    it has, or a browser could never start one; its runs still queue behind everyone's turns (jobs.turn_order
    takes workspaces in turn), so one person's probe cannot hold the machine. A run of an experiment that already
    has a place (`experiment_id`) needs no new one."""
    if viewer.is_operator:
        return
    limit = settings.max_runs_per_workspace()
    places: set[str] = set()
    for entry in root.iterdir():
        if (not entry.name.startswith(".") and (entry / run_folder.CONFIG).is_file()
                and owner_of(entry) == viewer.workspace and run_folder.read_status(entry)["state"] in states.ACTIVE):
            places.add(f"experiment {_experiment_id(entry)}" if _experiment_id(entry) else f"run {entry.name}")
    if experiment_id is not None and f"experiment {experiment_id}" in places:
        return
    if len(places) >= limit:
        raise SeqlabError(f"You already have {len(places)} runs waiting or training",
                          f"at most {limit} at a time per person (a race or probe counts as one), so that everyone "
                          "in the room gets a turn", "wait for one to finish, or stop one on the Runs page")


def upload_folder(root: Path, workspace: str | None) -> Path:
    """Where a workspace's uploads are stored: `.uploads/<hash of the id>` (the operator's: `.uploads`)."""
    if workspace is None:
        return root / UPLOADS
    return root / UPLOADS / hashlib.sha256(workspace.encode("ascii")).hexdigest()[:24]


def owns_upload(viewer: Viewer, path: str | Path, root: Path) -> bool:
    """True when `path` is a file stored in this viewer's upload folder (the operator: any upload)."""
    folder = (root / UPLOADS) if viewer.is_operator else upload_folder(root, viewer.workspace)
    try:
        Path(path).resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return Path(path).is_file()
