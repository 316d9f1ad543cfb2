"""The load and memory scripts run for minutes and are started by hand (`python -m tests.reliability.…`):
pytest, which would otherwise collect `*_test.py` files, leaves them alone."""

collect_ignore = ["load_test.py", "memory_test.py", "classroom.py"]
