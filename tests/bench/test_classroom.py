"""The class capacity model of bench/classroom.py on made-up measurements (the measuring itself needs minutes and
a Ray head: `python -m bench.classroom`)."""

from __future__ import annotations

import json

from bench import classroom


def _report(run_s: float) -> dict:
    launch = {"to_start_s": {"median": 0.1, "min": 0.1, "max": 0.2, "all": [0.1] * 5},
              "to_seen_ended_s": {"median": 0.3, "min": 0.2, "max": 0.4, "all": [0.3] * 5}}
    return {"backends": {name: {"launch": launch, "quick_demos": [{"submit_to_ended_s": run_s}]}
                         for name in ("local", "ray")}}


def test_the_model_queues_thirty_runs_onto_the_slots():
    # one slot, 30 runs of 10 s arriving over 60 s: back to back from the first press
    assert classroom.model_class(10.0, 1) == {"last_finishes_s": 300.0, "longest_wait_s": 230.0}
    # enough slots: nobody waits, the last finishes one run after the last press
    assert classroom.model_class(10.0, 30) == {"last_finishes_s": 70.0, "longest_wait_s": 0.0}
    assert classroom.model_class(10.0, 16, at_once=True)["last_finishes_s"] == 20.0


def test_the_table_has_one_local_row_and_ray_on_1_4_16_nodes(tmp_path, capsys):
    out = tmp_path / "cluster.json"
    out.write_text(json.dumps(_report(80.0)), encoding="utf-8")
    assert classroom.main(["--model-only", "--out", str(out)]) == 0
    rows = json.loads(out.read_text(encoding="utf-8"))["table"]
    assert [(row["backend"], row["nodes"], row["slots"]) for row in rows] == [
        ("local", 1, 1), ("ray", 1, 1), ("ray", 4, 4), ("ray", 16, 16)]
    assert rows[-1]["spread_over_60s"]["last_finishes_s"] < rows[1]["spread_over_60s"]["last_finishes_s"]
    printed = capsys.readouterr().out
    assert "launch overhead, ray" in printed and "16" in printed
