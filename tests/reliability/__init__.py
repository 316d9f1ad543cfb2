"""Reliability scripts (load and memory) and the harness they share with tests/test_faults.py."""
