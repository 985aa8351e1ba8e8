"""Why an output (one area x one notebook) is executed again: reasons as data.

A build keeps, for each output it executes, a ``Reason``: what changed (``Why``) and,
when datasets changed, which ones. The command line counts them, the build's
``report.json`` lists them, and a "what changed" page can read them, without parsing text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Why(StrEnum):
    """What made an output stale; the value is how it is written for people."""

    NEW = "new"
    OUTPUT_MISSING = "output missing"
    OUTPUT_DAMAGED = "output damaged"
    NOTEBOOK_CHANGED = "notebook changed"
    PARAMETERS_CHANGED = "parameters changed"
    CODE_CHANGED = "mhbook code changed"
    DATASETS_CHANGED = "datasets changed"


@dataclass(frozen=True)
class Reason:
    """Why one output runs: ``why``, and for ``Why.DATASETS_CHANGED`` the dataset ids (sorted)."""

    why: Why
    datasets: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.why.value}: {', '.join(self.datasets)}" if self.datasets else self.why.value

    def to_json(self) -> dict:
        return {"why": self.why.name.lower(), "text": str(self), "datasets": list(self.datasets)}
