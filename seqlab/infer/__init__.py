"""Infer stage: load a trained run and use it: the stateful sampler, the review scorer, evaluation."""
