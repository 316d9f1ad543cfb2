"""The one error type seqlab raises for anything a person can fix.

Every message answers three questions: what happened, what was expected, and
how to fix it. The CLI prints it as one line and exits with code 2; the app
shows it in an error box. Anything that is *not* a SeqlabError is a bug.
"""

from __future__ import annotations


class SeqlabError(Exception):
    """A problem with the user's input or environment, explained for a person."""

    def __init__(self, what: str, expected: str | None = None, fix: str | None = None):
        self.what = what.rstrip(".")
        self.expected = expected.rstrip(".") if expected else None
        self.fix = fix.rstrip(".") if fix else None
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [self.what + "."]
        if self.expected:
            parts.append(f"Expected {self.expected}.")
        if self.fix:
            parts.append(f"Fix: {self.fix}.")
        return " ".join(parts)

    def __str__(self) -> str:
        return self.message


def require(condition: bool, what: str, expected: str, fix: str) -> None:
    """Raise a SeqlabError with the three parts unless `condition` holds."""
    if not condition:
        raise SeqlabError(what, expected, fix)
