"""Runs stage: the run folder (the single source of truth), run states, the job runner, launching and deleting runs."""
