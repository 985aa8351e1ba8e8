"""The shapes every statistic returns: a tidy DataFrame, or an :class:`Estimate`.

Array or Series input gives a DataFrame with the project's column names (PHE's names
in brackets):

* ``value``; ``lower_cl``, ``upper_cl`` (``lowercl``, ``uppercl``) for one confidence
  level, or ``lower_cl_95``, ``upper_cl_95``, ``lower_cl_99_8``, ``upper_cl_99_8`` ...
  for several (the suffix is the level in percent, with ``_`` for the decimal point);
* ``confidence``: the level(s) as PHE writes them, ``"95%"`` or ``"95%, 99.8%"``;
* ``statistic`` and ``method``: what was computed and how (e.g. ``"percentage"``,
  ``"Wilson"``), as in PHEindicatormethods.

All-scalar input gives an :class:`Estimate`, which prints readably
(``43.24 (95% CI 42.85 to 43.63) percentage, Wilson``) and keeps full precision in its
fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mhbook.stats._validate import ci_label, ci_suffix


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "NaN"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


@dataclass(frozen=True)
class Estimate:
    """One estimate with its confidence interval(s).

    ``intervals`` holds ``(confidence, lower, upper)`` for each requested level, first
    level first; ``lower_cl``, ``upper_cl`` and ``confidence`` give the first one.
    ``details`` holds extra named numbers (e.g. ``n`` and ``p_value`` of a correlation).
    """

    value: float
    intervals: tuple[tuple[float, float, float], ...]
    statistic: str
    method: str
    details: Mapping[str, float] = field(default_factory=dict)

    @property
    def lower_cl(self) -> float:
        return self.intervals[0][1]

    @property
    def upper_cl(self) -> float:
        return self.intervals[0][2]

    @property
    def confidence(self) -> float:
        return self.intervals[0][0]

    def to_frame(self) -> pd.DataFrame:
        """The one-row DataFrame that array input would have given."""
        return build_frame(
            pd.RangeIndex(1),
            {},
            np.array([self.value]),
            {c: (np.array([lo]), np.array([hi])) for c, lo, hi in self.intervals},
            self.statistic,
            self.method,
            extra={k: np.array([v]) for k, v in self.details.items()},
        )

    def __str__(self) -> str:
        cis = "; ".join(f"{ci_label([c])} CI {_fmt(lo)} to {_fmt(hi)}" for c, lo, hi in self.intervals)
        extra = "".join(f", {k} {_fmt(v)}" for k, v in self.details.items())
        return f"{_fmt(self.value)} ({cis}) {self.statistic}, {self.method}{extra}"


def limit_columns(levels: Sequence[float], prefix: str = "") -> list[tuple[float, str, str]]:
    """Names of the lower/upper columns for each level (suffixed only when several)."""
    if len(levels) == 1:
        return [(levels[0], f"{prefix}lower_cl", f"{prefix}upper_cl")]
    return [(c, f"{prefix}lower_cl_{ci_suffix(c)}", f"{prefix}upper_cl_{ci_suffix(c)}") for c in levels]


def build_frame(
    index: pd.Index,
    inputs: Mapping[str, np.ndarray],
    value: np.ndarray,
    limits: Mapping[float, tuple[np.ndarray, np.ndarray]],
    statistic: str,
    method: str | np.ndarray,
    extra: Mapping[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Assemble the tidy output: inputs, value, limits, confidence, statistic, method."""
    levels = list(limits)
    out = pd.DataFrame(dict(inputs), index=index)
    out["value"] = value
    for level, lower, upper in limit_columns(levels):
        out[lower], out[upper] = limits[level]
    for name, values in (extra or {}).items():
        out[name] = values
    out["confidence"] = ci_label(levels)
    out["statistic"] = statistic
    out["method"] = method
    return out


def to_estimate(frame: pd.DataFrame, levels: Sequence[float], details: Sequence[str] = ()) -> Estimate:
    """Turn the one-row frame of a scalar call into an :class:`Estimate`."""
    row = frame.iloc[0]
    intervals = tuple((level, float(row[lo]), float(row[hi])) for level, lo, hi in limit_columns(levels))
    method = row["method"]
    return Estimate(
        value=float(row["value"]),
        intervals=intervals,
        statistic=str(row["statistic"]),
        method="" if pd.isna(method) else str(method),
        details={k: float(row[k]) for k in details},
    )
