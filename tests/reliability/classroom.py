"""A class on one server: `python -m tests.reliability.classroom [--workspaces 8] [--runs-each 3]`.

One `streamlit run app.py` (workspaces on) with a fresh runs folder; one browser context per person in Debian
chromium, so each person has their own cookie and so their own workspace. Everyone opens the Train page and sets
a tiny step-capped run up; then, as a teacher's "go" (so that every first run is queued before any run can end),
each person clicks Train as fast as allowed in their one tab: runs 1 and 2 at once (both queue), a third click that
must be refused ("You already have 2 runs waiting or training"), then each remaining run as soon as one of theirs
has ended (read from their run folders, as the Runs page shows it). The page stays on their newest run, whose live
view also moves the queue. At the end every person's Runs page must list their own runs and nobody else's.

Then every run folder is read: its owner (owner.json) and when the scheduler started it (status.json `turn_at`).
The checks: every workspace has exactly --runs-each finished runs; no workspace's third run started before every
workspace's first had started; every Runs page lists only its own runs; 0 errors (exceptions, error boxes other
than the expected refusal, runs that did not finish, timeouts); the server's RSS, sampled every second, stays
under 1 GB. The figures go to bench/results/reliability.json under "classroom"; the exit status is 1 when a check
fails. Not collected by pytest (conftest.py).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from seqlab import settings
from seqlab.runs.states import FINAL as FINAL_STATES
from tests.reliability import harness

RSS_GOAL_MB = 1024.0
RUN_ID = re.compile(r"[?&]run=([A-Za-z0-9._-]+)")
OPTION_ID = re.compile(r"(\d{8}-\d{6}-[a-z]+-[a-z_]+-[0-9a-f]{4})")
SCREENSHOTS = harness.REPO / "artifacts" / "reliability"
CLICK_SECONDS = 90.0  # from a Train click to the new run in the URL (or the refusal), on a loaded machine
PERSON_SECONDS = 3600.0  # a person's last run may wait behind everyone else's


def code_version() -> dict | None:
    """The commit measured, and the app files that differ from it (None outside a git checkout)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=harness.REPO, capture_output=True,
                                text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--", "seqlab", "app.py", "pages"],
                                 cwd=harness.REPO, capture_output=True, text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return None
    return {"commit": commit, "uncommitted_app_changes": [line[3:] for line in changed]}


def refusal_text(cap: int) -> str:
    return f"You already have {cap} runs waiting or training"


class Tally:
    """What all people saw; asyncio runs them in one thread, so plain containers are safe."""

    def __init__(self, people: int, cap: int):
        self.cap, self.refusal = cap, refusal_text(cap)
        self.errors: list[str] = []
        self.refusals = 0
        self.rss_samples: list[float] = []
        self.run_ids: dict[int, list[str]] = {person: [] for person in range(1, people + 1)}
        self.workspace_of: dict[int, str] = {}
        self.runs_pages: dict[int, dict] = {}
        self.ready = 0
        self.go_at: float | None = None

    async def check(self, person: int, page, what: str) -> None:
        for problem in await harness.problems(page, allowed=(self.refusal,)):
            self.errors.append(f"person {person}, {what}: {problem}")

    async def fail(self, person: int, page, what: str) -> None:
        self.errors.append(f"person {person}: {what}")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            await page.screenshot(path=SCREENSHOTS / f"classroom-{person}-error-{len(self.errors)}.png", full_page=True)
        except Exception:  # the page itself may be what failed
            pass


async def workspace_cookie(context, timeout: float = 60.0) -> str:
    """The workspace id the app stored in this browser's cookie on its first visit."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for cookie in await context.cookies():
            if cookie["name"] == "seqlab_workspace":
                return cookie["value"]
        await asyncio.sleep(0.3)
    raise TimeoutError("the app stored no workspace cookie")


async def prepare(page, url: str) -> None:
    """Train page with the tiny knobs and the step cap filled in, the Train button not yet pressed."""
    await page.goto(f"{url}/train")
    await page.get_by_text("Set up a new run").first.wait_for(timeout=120_000)
    await harness.wait_idle(page, timeout=120)
    await harness.open_setup(page)
    for label, value in harness.TINY_KNOBS.items():
        await harness.set_number(page, label, value)
    await harness.set_number(page, "Step cap (0 = no cap)", harness.TINY_STEP_CAP)


def owned_runs(root: Path, workspace: str) -> set[str]:
    """The run folders whose owner.json names `workspace` (what the server created for this browser)."""
    from seqlab.runs import workspaces

    return {entry.name for entry in root.iterdir()
            if not entry.name.startswith(".") and workspaces.owner_of(entry) == workspace}


async def click_train(page, root: Path, workspace: str, known: list[str], refusal: str) -> tuple[str, str]:
    """Press Train; ("run", new id) when the page moved to a new run of this workspace, ("refused", message) when
    it shows the cap refusal and no run folder was created. An earlier refusal is cleared first (a rerun, by
    nudging the step cap), so that a box seen after the click is this click's. The page may first show the newest
    active run, so only an id outside `known` counts as new."""
    boxes = page.locator(harness.PROBLEM_SELECTORS["error box"]).filter(has_text=refusal)
    if await boxes.count():
        await harness.open_setup(page)  # a rerun folds "More settings", where the step cap is
        for value in (harness.TINY_STEP_CAP + 1, harness.TINY_STEP_CAP):
            await harness.set_number(page, "Step cap (0 = no cap)", value)
        deadline = time.monotonic() + CLICK_SECONDS
        while await boxes.count():
            if time.monotonic() > deadline:
                raise TimeoutError("the earlier refusal stayed on the page through a rerun")
            await asyncio.sleep(0.2)
    before = owned_runs(root, workspace)
    for attempt in range(3):  # a run ending on the page reruns it whole, which may fold the form away
        try:
            await page.get_by_role("button", name="Train", exact=True).click(timeout=30_000)
            break
        except Exception:
            if attempt == 2:
                raise
            await harness.open_setup(page)
    deadline = time.monotonic() + CLICK_SECONDS
    while time.monotonic() < deadline:
        match = RUN_ID.search(page.url)
        if match and match.group(1) not in known:
            if match.group(1) not in owned_runs(root, workspace):
                raise RuntimeError(f"the page moved to run {match.group(1)}, which is not this workspace's")
            return "run", match.group(1)
        if await boxes.count() and not owned_runs(root, workspace) - before:
            return "refused", (await boxes.first.inner_text()).strip()
        await asyncio.sleep(0.2)
    created = sorted(owned_runs(root, workspace) - before)
    raise TimeoutError(f"Train neither showed a new run nor was refused (run folders created: {created}); "
                       f"page problems: {await harness.problems(page, allowed=(refusal,))}")


def run_state(root: Path, run_id: str) -> str:
    try:
        return json.loads((root / run_id / "status.json").read_text(encoding="utf-8"))["state"]
    except (OSError, ValueError, KeyError):
        return "unreadable"


async def wait_for_an_end(root: Path, run_ids: list[str], deadline: float) -> None:
    """Until one of `run_ids` has ended (what the person reads on their Runs page)."""
    while time.monotonic() < deadline:
        if any(run_state(root, run_id) in FINAL_STATES for run_id in run_ids):
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"none of {run_ids} ended")


async def check_runs_page(page, url: str, own: list[str], everyone: set[str]) -> dict:
    """The Runs page of this browser: its caption counts, and its "Run" list holds, exactly the person's runs."""
    await page.goto(f"{url}/runs")
    caption = page.get_by_text(re.compile(r"\d+ run\(s\), newest first")).first
    await caption.wait_for(timeout=120_000)
    await harness.wait_idle(page, timeout=120)
    count = int(re.match(r"(\d+)", (await caption.inner_text()).strip()).group(1))
    options, listed, seen = page.locator('[role="option"]'), set(), []
    for _ in range(4):  # the select box of "One run" lists every run of the page; a rerun may shut or redraw it
        await page.get_by_label("Run", exact=True).click()
        try:
            await options.first.wait_for(timeout=5_000)
        except Exception:
            seen.append("(no list opened)")
        for _ in range(25):  # the options' text may be drawn a moment after the list opens
            texts = await options.all_inner_texts()
            listed = set(OPTION_ID.findall(" ".join(texts)))
            if texts and len(listed) >= count:
                break
            await asyncio.sleep(0.2)
        await page.keyboard.press("Escape")
        if len(listed) >= count:
            break
        seen.append(" | ".join(texts)[:300])
        await asyncio.sleep(1)
        await harness.wait_idle(page, timeout=60)
    others = sorted((everyone - set(own)) & set(OPTION_ID.findall(await page.locator("body").inner_text())))
    return {"caption_count": count, "listed": sorted(listed), "others_shown": others, "retries": seen,
            "ok": count == len(own) and listed == set(own) and not others}


async def person(number: int, browser, url: str, root: Path, runs_each: int, tally: Tally,
                 all_ready: asyncio.Event, go: asyncio.Event) -> None:
    """One browser (one workspace): set up, wait for "go", then start runs_each runs as fast as the cap allows."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(120_000)
    deadline = time.monotonic() + PERSON_SECONDS
    ids = tally.run_ids[number]
    prepared = False
    try:
        await page.goto(url)  # the first visit makes up the workspace and stores it in the cookie
        tally.workspace_of[number] = await workspace_cookie(context)
        await prepare(page, url)  # a new session, which reads the cookie
        await tally.check(number, page, "setting up")
        prepared = True
    except Exception as error:
        await tally.fail(number, page, f"setting up: {type(error).__name__}: {str(error)[:300]}")
    finally:
        tally.ready += 1
        if tally.ready == len(tally.run_ids):
            all_ready.set()
    await go.wait()
    try:
        if not prepared:
            return
        workspace = tally.workspace_of[number]
        refused = False
        while len(ids) < runs_each:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(ids)} of {runs_each} runs started")
            active = [run_id for run_id in ids if run_state(root, run_id) not in FINAL_STATES]
            if len(active) >= tally.cap and not refused:  # the click one too many: it must be refused
                outcome, text = await click_train(page, root, workspace, ids, tally.refusal)
                if outcome == "refused":
                    tally.refusals += 1
                    refused = True
                else:
                    ids.append(text)
                    if all(run_state(root, run_id) not in FINAL_STATES for run_id in active):  # the cap failed
                        await tally.fail(number, page, f"a run beyond the cap of {tally.cap} started ({text})")
                continue
            if len(active) >= tally.cap:
                await wait_for_an_end(root, active, deadline)
                continue
            outcome, text = await click_train(page, root, workspace, ids, tally.refusal)
            if outcome == "refused":  # room was free by the run folders, yet the page refused
                await tally.fail(number, page, f"refused with {len(active)} active runs: {text[:200]}")
                await asyncio.sleep(2)
                continue
            ids.append(text)
            await tally.check(number, page, f"starting run {len(ids)} ({text})")
        state = await harness.watch_run(page, FINAL_STATES, max(60.0, deadline - time.monotonic()))
        await tally.check(number, page, f"watching run {ids[-1]} to its end ({state})")
        await wait_until_all_ended(root, ids, deadline)
    except Exception as error:  # a page timeout, or the page not behaving: counted
        await tally.fail(number, page, f"{type(error).__name__}: {str(error)[:300]}")
    finally:
        try:
            everyone = {run_id for run_ids in tally.run_ids.values() for run_id in run_ids}  # known so far
            tally.runs_pages[number] = await check_runs_page(page, url, ids, everyone)
            if not tally.runs_pages[number]["ok"]:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=SCREENSHOTS / f"classroom-{number}-runs-page.png", full_page=True)
            await tally.check(number, page, "on the Runs page")
        except Exception as error:
            await tally.fail(number, page, f"Runs page: {type(error).__name__}: {str(error)[:300]}")
        await context.close()


async def wait_until_all_ended(root: Path, run_ids: list[str], deadline: float) -> None:
    while any(run_state(root, run_id) not in FINAL_STATES for run_id in run_ids):
        if time.monotonic() > deadline:
            raise TimeoutError(f"runs still active: {[r for r in run_ids if run_state(root, r) not in FINAL_STATES]}")
        await asyncio.sleep(0.5)


async def sample_memory(pid: int, tally: Tally, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            tally.rss_samples.append(harness.resident_mb(pid))
        except (OSError, RuntimeError):  # the server is gone: the people will say what failed
            return
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except TimeoutError:
            pass


def read_runs(root: Path) -> list[dict]:
    """Every run folder: id, owner, state, and when the scheduler started it (turn_at, else started_at)."""
    from seqlab.runs import run_folder, workspaces

    found = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or not (entry / "config.json").is_file():
            continue
        status = run_folder.read_status(entry)
        started = status.get("turn_at") or status.get("started_at")
        found.append({"id": entry.name, "workspace": workspaces.owner_of(entry), "state": status["state"],
                      "created_at": status.get("created_at"), "started_at": started})
    return found


def judge(runs: list[dict], tally: Tally, runs_each: int) -> dict:
    """The checks over the run folders: counts per workspace, the start order, fairness, owners."""
    label = {workspace: f"W{number}" for number, workspace in tally.workspace_of.items()}
    by_workspace: dict[str, list[dict]] = {}
    for run in runs:
        by_workspace.setdefault(label.get(run["workspace"], "unknown"), []).append(run)
    problems, counts_ok = [], True
    for number in sorted(tally.run_ids):
        name = f"W{number}"
        mine = by_workspace.get(name, [])
        finished = sum(run["state"] == "finished" for run in mine)
        if len(mine) != runs_each or finished != runs_each:
            counts_ok = False
            problems.append(f"{name} has {len(mine)} runs, {finished} finished (expected {runs_each} finished)")
        if sorted(run["id"] for run in mine) != sorted(tally.run_ids[number]):
            counts_ok = False
            problems.append(f"{name}: the runs it owns are not the runs its browser started")
    if "unknown" in by_workspace:
        counts_ok = False
        problems.append(f"{len(by_workspace['unknown'])} runs owned by no person's workspace")
    for run in runs:
        if run["state"] != "finished":
            problems.append(f"run {run['id']} ended {run['state']}")
    t0 = tally.go_at or 0.0
    starts = {}  # W1: [seconds after go when its 1st, 2nd, 3rd... run started], in the order the person started them
    for number in sorted(tally.run_ids):
        by_id = {run["id"]: run for run in runs}
        starts[f"W{number}"] = [round(by_id[run_id]["started_at"] - t0, 1)
                                if run_id in by_id and by_id[run_id]["started_at"] else None
                                for run_id in tally.run_ids[number]]
    order = [name for name, _ in sorted(((name, time_) for name, times in starts.items() for time_ in times
                                         if time_ is not None), key=lambda item: item[1])]
    order_labels, seen = [], Counter()
    for name in order:
        seen[name] += 1
        order_labels.append(f"{name}#{seen[name]}")
    firsts = [times[0] for times in starts.values() if times and times[0] is not None]
    thirds = [times[2] for times in starts.values() if len(times) > 2 and times[2] is not None]
    complete = len(firsts) == len(starts) and (runs_each < 3 or len(thirds) == len(starts))
    fair = complete and (not thirds or max(firsts) < min(thirds))
    every_start = all(len(times) == runs_each and None not in times for times in starts.values())
    rounds = every_start and all(  # informational: every k-th run started before any (k+1)-th (strict round-robin)
        max(times[k] for times in starts.values()) < min(times[k + 1] for times in starts.values())
        for k in range(runs_each - 1))
    return {"problems": problems, "counts_ok": counts_ok, "start_seconds_after_go": starts, "start_order": order_labels,
            "fairness": {"check": "no workspace's third run started before every workspace's first had started",
                         "passed": fair, "latest_first_start_s": max(firsts) if firsts else None,
                         "earliest_third_start_s": min(thirds) if thirds else None,
                         "strict_rounds": rounds}}


async def run_classroom(people: int, runs_each: int, port: int | None, folder: Path) -> dict:
    from playwright.async_api import async_playwright

    from seqlab.runs import jobs

    root = folder / "runs"
    cap = settings.max_runs_per_workspace()
    server = harness.start_app(root, folder / "cache", folder / "server.log", port)
    tally, stop = Tally(people, cap), asyncio.Event()
    started = time.monotonic()
    try:
        memory = asyncio.create_task(sample_memory(server.process.pid, tally, stop))
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=harness.CHROMIUM, args=harness.CHROMIUM_ARGS)
            all_ready, go = asyncio.Event(), asyncio.Event()
            tasks = [asyncio.create_task(person(number, browser, server.url, root, runs_each, tally, all_ready, go))
                     for number in range(1, people + 1)]
            await all_ready.wait()
            setup_seconds = time.monotonic() - started
            print(f"{people} people set up in {setup_seconds:.0f} s: go", file=sys.stderr, flush=True)
            tally.go_at, go_monotonic = time.time(), time.monotonic()
            go.set()
            await asyncio.gather(*tasks)
            after_go = time.monotonic() - go_monotonic
            await browser.close()
        stop.set()
        await memory
        final_rss = harness.resident_mb(server.process.pid)
        runs = read_runs(root)
    finally:
        harness.stop_app(server)
        harness.stop_active_runs(root)
    wall = time.monotonic() - started
    verdict = judge(runs, tally, runs_each)
    errors = tally.errors + verdict["problems"]
    isolation_ok = len(tally.runs_pages) == people and all(page["ok"] for page in tally.runs_pages.values())
    if not isolation_ok:
        errors.append("a Runs page listed other runs than its own: "
                      + json.dumps({f"W{n}": page for n, page in tally.runs_pages.items() if not page["ok"]})[:500])
    peak = max(tally.rss_samples) if tally.rss_samples else float("nan")
    checks = {"every_workspace_has_its_runs": verdict["counts_ok"],
              "third_after_every_first": verdict["fairness"]["passed"], "own_runs_only": isolation_ok,
              "no_errors": not errors, "server_rss_under_1_gb": peak < RSS_GOAL_MB,
              "every_person_refused_once": tally.refusals == people}
    return {
        "date": datetime.date.today().isoformat(), "code": code_version(), "workspaces": people, "runs_each": runs_each,
        "runs": len(runs), "finished": sum(run["state"] == "finished" for run in runs),
        "runs_per_workspace_cap": cap, "cpu_cores": os.cpu_count(), "max_concurrent_jobs": jobs.max_concurrent_jobs(),
        "run_config": {**harness.TINY_KNOBS, "Step cap": harness.TINY_STEP_CAP, "corpus": "tiny-shakespeare"},
        "wall_seconds": round(wall, 1), "setup_seconds": round(setup_seconds, 1),
        "seconds_after_go": round(after_go, 1),
        "server_rss_mb": {"first": round(tally.rss_samples[0], 1) if tally.rss_samples else None,
                          "peak": round(peak, 1), "last": round(final_rss, 1), "samples": len(tally.rss_samples),
                          "goal": RSS_GOAL_MB},
        "errors": len(errors), "error_messages": errors[:30],
        "expected_refusals": tally.refusals, "refusal_message": tally.refusal + "…",
        "start_order": verdict["start_order"], "start_seconds_after_go": verdict["start_seconds_after_go"],
        "fairness": verdict["fairness"],
        "runs_pages": {f"W{n}": {"runs_listed": len(page["listed"]), "others_shown": len(page["others_shown"]),
                                 "list_reopened": len(page["retries"]), "ok": page["ok"]}
                       for n, page in sorted(tally.runs_pages.items())},
        "checks": checks, "passed": all(checks.values()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.classroom", description=__doc__.split("\n")[0])
    parser.add_argument("--workspaces", type=int, default=8, help="people, each in their own browser (workspace)")
    parser.add_argument("--runs-each", type=int, default=3, help="runs each person trains (at least the cap + 1)")
    parser.add_argument("--port", type=int, default=None, help="the server's port (default: a free one)")
    parser.add_argument("--keep", action="store_true", help="keep the runs folder and the server log")
    args = parser.parse_args(argv)
    cap = settings.max_runs_per_workspace()
    if args.workspaces < 1 or args.runs_each < cap + 1:
        parser.error(f"--runs-each must be at least {cap + 1} (the per-workspace cap + 1), --workspaces at least 1")
    folder = Path(tempfile.mkdtemp(prefix="seqlab-classroom-"))
    try:
        result = asyncio.run(run_classroom(args.workspaces, args.runs_each, args.port, folder))
    finally:
        if args.keep:
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    path = harness.merge_result("classroom", result)
    fairness = result["fairness"]
    print(f"{result['workspaces']} workspaces × {result['runs_each']} runs: {result['finished']}/{result['runs']} "
          f"finished in {result['wall_seconds']:.0f} s; fairness {'passed' if fairness['passed'] else 'FAILED'} "
          f"(last first run started {fairness['latest_first_start_s']} s after go, first third run "
          f"{fairness['earliest_third_start_s']} s); {result['expected_refusals']} expected refusals, "
          f"{result['errors']} errors, server RSS peak {result['server_rss_mb']['peak']} MB → {path}")
    print("start order: " + " ".join(result["start_order"]))
    for name, passed in result["checks"].items():
        print(f"  {'ok  ' if passed else 'FAIL'} {name}")
    for message in result["error_messages"]:
        print(f"  {message}", file=sys.stderr)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
