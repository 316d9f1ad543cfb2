"""The teacher's leaderboard: for each corpus and cell, the best run of the class.

Pure functions over jobs.list_runs rows (no Streamlit). A generator is ranked by its best validation loss (lower
is better), a review classifier by its best validation accuracy (higher is better): the figures the Train page
shows each person, so the room compares like with like. The rows say them as the Runs page does, in plain words
(share right; "unsure among K" characters for text), with the loss in nats last, for experts.
"""

from __future__ import annotations

import hashlib

from seqlab.report.comparison import cell_label, corpus_label, table_row

UNOWNED = "operator (command line)"


def workspace_label(workspace: str | None) -> str:
    """A short, stable name for a workspace that does not give its id (the id is a browser's key to its runs)."""
    if workspace is None:
        return UNOWNED
    return "workspace " + hashlib.sha256(workspace.encode("ascii")).hexdigest()[:6]


def _score(item: dict) -> float | None:
    """The ranking figure, oriented so that higher is better; None when the run has none yet."""
    status, task = item["status"], item["model"]["task"]
    figure = status.get("best_val_accuracy") if task == "classify" else status.get("best_val_loss")
    if not isinstance(figure, int | float) or isinstance(figure, bool) or figure != figure:
        return None
    return float(figure) if task == "classify" else -float(figure)


def leaderboard(items: list[dict]) -> list[dict]:
    """One row per (task, corpus, cell): the best run, whose it is, its figure, and how many runs tried it."""
    best: dict[tuple, tuple[float, dict]] = {}
    tried: dict[tuple, int] = {}
    for item in items:
        if not item.get("model") or not item.get("train"):
            continue
        key = (item["model"]["task"], corpus_label(item["train"]["corpus"]), cell_label(item["model"]))
        tried[key] = tried.get(key, 0) + 1
        score = _score(item)
        if score is not None and (key not in best or score > best[key][0]):
            best[key] = (score, item)
    rows = []
    for key, (_, item) in sorted(best.items(), key=lambda pair: (pair[0][0], pair[0][1], -pair[1][0])):
        row = table_row(item)
        rows.append({"Task": row["Task"], "Corpus": key[1], "Cell": key[2], "Right": row["Right"],
                     "Unsure among": row["Unsure among"], "Run": row["Name"],
                     "Whose": workspace_label(item.get("workspace")), "Model": row["Model"],
                     "Runs tried": tried[key], "Validation loss (nats)": row["Validation loss (nats)"],
                     "Run id": item["id"]})
    return rows
