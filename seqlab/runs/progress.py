"""A run's progress: steps done ÷ steps planned by the rule that really ends it (time budget, epochs or step cap).

A preset's "1,000 epochs" is only a ceiling under its 60-second budget: a progress computed from it read "0%" for a
stopped run and `step 123/156000` in the CLI. The plan here is what the run will actually do: the step limit (epochs
× steps per epoch, or the step cap if smaller), or, with a time budget, the steps the measured speed fits in the
time left, whichever is fewer. The worker writes it into status.json (`planned_steps`, `plan_rule`, and `progress`
= step ÷ planned steps), so the Train page, the Home page, the Runs table and the CLI all read the same numbers.
Imports nothing heavy: the app's pages use it.
"""

from __future__ import annotations

from dataclasses import dataclass

TIME_BUDGET, EPOCHS, STEP_CAP = "time budget", "epochs", "step cap"


@dataclass(frozen=True)
class Plan:
    """How many steps the run will take (None: a time budget whose speed is not measured yet), and why."""

    steps: int | None
    rule: str  # TIME_BUDGET | EPOCHS | STEP_CAP

    @property
    def estimated(self) -> bool:
        """A time budget's plan is a forecast from the speed so far; epochs and a step cap are exact."""
        return self.rule == TIME_BUDGET


def step_limit(steps_per_epoch: int, epochs: int, max_steps: int) -> tuple[int, str]:
    """The most steps the run may take, and the rule that sets it: epochs, or the step cap when it is lower."""
    by_epochs = max(1, steps_per_epoch * epochs)
    if max_steps and max_steps < by_epochs:
        return max_steps, STEP_CAP
    return by_epochs, EPOCHS


def plan(step: int, limit: int, limit_rule: str, time_budget: float, elapsed: float,
         steps_per_second: float) -> Plan:
    """The steps the run will have taken when it ends: with a time budget, the steps done plus what the speed so
    far fits in the time left, unless the step limit comes first."""
    if not time_budget:
        return Plan(limit, limit_rule)
    if steps_per_second <= 0:
        return Plan(None, TIME_BUDGET)
    by_time = step + steps_per_second * max(0.0, time_budget - elapsed)
    if by_time >= limit:
        return Plan(limit, limit_rule)
    return Plan(max(step, 1, round(by_time)), TIME_BUDGET)


def share_done(step: int, planned: Plan, time_budget: float = 0.0, elapsed: float = 0.0) -> float:
    """Steps done ÷ steps planned, in [0, 1]; before a time budget's speed is known, the share of time spent."""
    if planned.steps is None:
        return min(1.0, elapsed / time_budget) if time_budget else 0.0
    return min(1.0, max(0.0, step / max(1, planned.steps)))


def status_fields(step: int, planned: Plan, time_budget: float = 0.0, elapsed: float = 0.0) -> dict:
    """The status.json fields of a plan: planned_steps, plan_rule and progress."""
    return {"planned_steps": planned.steps, "plan_rule": planned.rule,
            "progress": share_done(step, planned, time_budget, elapsed)}


def steps_in_words(status: dict) -> str:
    """"step 123 of ≈640 (time budget)", "step 80 of 200 (step cap)", "step 12" — from a status.json; runs
    written before plans existed show their step limit (`total_steps`)."""
    step = int(status.get("step") or 0)
    planned, rule = status.get("planned_steps"), status.get("plan_rule")
    if not isinstance(planned, int) or planned <= 0:
        planned = status.get("total_steps") if rule is None else None
    if not isinstance(planned, int) or planned <= 0:
        return f"step {step:,}"
    approximately = "≈" if rule == TIME_BUDGET and status.get("state") != "finished" else ""
    return f"step {step:,} of {approximately}{planned:,}" + (f" ({rule})" if rule else "")
