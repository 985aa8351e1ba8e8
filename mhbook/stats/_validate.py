"""The one input validator shared by every statistic in :mod:`mhbook.stats`.

Every public function turns its inputs into aligned float arrays here, before any
arithmetic, so that bad input stops with one plain sentence naming the field and the
row, and suppressed (missing) input is handled the same way everywhere:

* impossible input (inputs of different lengths, a numerator above its denominator, a
  negative count, a missing or non-positive population, a quantile that is not a whole
  number from 1 to 100, a missing group key, a confidence level outside [0.9, 1), too few
  quantiles) raises :class:`StatsInputError`, which is both an :class:`~mhbook.errors.MhbookError`
  and a :class:`ValueError`;
* missing input (``NaN``, ``None``, ``pd.NA``: usually a count suppressed by the
  publisher) is not an error: the row's outputs are left missing and the caller warns
  once with :class:`SuppressedInputWarning`, counting the rows.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mhbook.errors import ManyQuantilesWarning, StatsInputError, SuppressedInputWarning

#: Confidence levels are fractions in [CONFIDENCE_MIN, 1); 0.9 is PHE's lowest level.
CONFIDENCE_MIN = 0.9
#: PHE's bounds on the number of quantiles an SII is fitted across; quantile numbers run
#: from 1 (most deprived) to at most MAX_QUANTILES.
MIN_QUANTILES, MAX_QUANTILES = 5, 100


@dataclass(frozen=True)
class Checked:
    """Validated inputs: aligned float arrays, the index to label rows, a missing mask,
    and the group keys (one column per key, positions as rows) when some were given."""

    values: dict[str, np.ndarray]
    index: pd.Index
    scalar: bool
    missing: np.ndarray
    keys: pd.DataFrame | None = None

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]


def confidence_levels(confidence: float | Sequence[float]) -> tuple[float, ...]:
    """Return the requested confidence levels as a tuple of fractions, checked.

    Levels must be fractions in [0.9, 1) such as 0.95 or 0.998; percentages (95) are
    refused rather than guessed at, so that one spelling is used throughout.
    """
    raw = [confidence] if np.ndim(confidence) == 0 else list(confidence)
    if not raw:
        raise StatsInputError("confidence is empty: give a level such as 0.95, or several as (0.95, 0.998).")
    levels: list[float] = []
    for level in raw:
        try:
            c = float(level)
        except (TypeError, ValueError):
            raise StatsInputError(f"confidence {level!r} is not a number: give a fraction such as 0.95.") from None
        if not CONFIDENCE_MIN <= c < 1:
            hint = f" (as a fraction: {c / 100:g}, not {c:g})" if 90 <= c < 100 else ""
            raise StatsInputError(f"confidence {c:g} is outside [0.9, 1): give a fraction such as 0.95 or 0.998{hint}.")
        if c not in levels:
            levels.append(c)
    return tuple(levels)


def single_level(confidence: float | Sequence[float], func: str, instead: str) -> float:
    """Check a confidence argument that must be one level (for the bare CI helpers)."""
    levels = confidence_levels(confidence)
    if len(levels) != 1 or np.ndim(confidence) != 0:
        raise StatsInputError(f"{func} takes one confidence level such as 0.95; {instead} takes several.")
    return levels[0]


def ci_suffix(level: float) -> str:
    """Column suffix for a confidence level: 0.95 -> '95', 0.998 -> '99_8'."""
    return f"{round(level * 100, 6):g}".replace(".", "_")


def ci_label(levels: Iterable[float]) -> str:
    """Human label for confidence levels, as PHE writes them: '95%' or '95%, 99.8%'."""
    return ", ".join(f"{round(c * 100, 6):g}%" for c in levels)


def check_multiplier(multiplier: float, *, allow_negative: bool = False) -> float:
    """Check a scaling multiplier (e.g. 100 for a percentage) is a usable number."""
    try:
        m = float(multiplier)
    except (TypeError, ValueError):
        raise StatsInputError(f"multiplier {multiplier!r} is not a number: give e.g. 100 or 100000.") from None
    if not math.isfinite(m) or m == 0 or (m < 0 and not allow_negative):
        need = "a non-zero number" if allow_negative else "a positive number"
        raise StatsInputError(f"multiplier {multiplier!r} is not {need}: give e.g. 100 or 100000.")
    return m


def check_quantile_count(n: int, where: str) -> None:
    """PHE's rule: at least 5 and at most 100 quantiles; warn above 10."""
    if n < MIN_QUANTILES:
        raise StatsInputError(
            f"{where} has {n} quantiles: at least {MIN_QUANTILES} are needed (e.g. IMD quintiles or deciles)."
        )
    if n > MAX_QUANTILES:
        raise StatsInputError(f"{where} has {n} quantiles: at most {MAX_QUANTILES} are allowed.")
    if n > 10:
        warnings.warn(
            ManyQuantilesWarning(f"{where} has {n} quantiles: small quantile populations can make the SII unstable."),
            stacklevel=3,
        )


def row_name(index: pd.Index, position: int) -> str:
    """Name a row by its index label, so messages point at the caller's own rows."""
    label = index[position]
    if isinstance(label, np.generic):  # show 3, not np.int64(3)
        label = label.item()
    return f"row {label!r}"


def _as_float(name: str, values: object) -> np.ndarray:
    """Convert one field to a 1-D float array; refuse text and other non-numbers."""
    series = pd.Series(np.atleast_1d(np.asarray(values, dtype=object)) if not isinstance(values, pd.Series) else values)
    numeric = pd.to_numeric(series, errors="coerce")
    bad = numeric.isna() & series.notna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise StatsInputError(f"{name} holds {series.iloc[pos]!r} at position {pos}, which is not a number.")
    return numeric.to_numpy(dtype=float, na_value=np.nan)


def _index_of(fields: Mapping[str, object], n: int) -> pd.Index:
    for values in fields.values():
        if isinstance(values, pd.Series) and len(values) == n:
            return values.index
    return pd.RangeIndex(n)


def check_inputs(
    fields: Mapping[str, object],
    *,
    required: Sequence[str] = (),
    nonnegative: Sequence[str] = (),
    positive: Sequence[str] = (),
    open_unit: Sequence[str] = (),
    not_above: Sequence[tuple[str, str]] = (),
    quantiles: Sequence[str] = (),
    keys: tuple[str, object] | None = None,
    context: str = "",
) -> Checked:
    """Validate and align the numeric fields of one statistic.

    Parameters
    ----------
    fields:
        Field name (as the caller knows it, e.g. ``"numerator"``) to a scalar,
        array-like or Series. Scalars broadcast against arrays.
    required:
        Fields that may not be missing (e.g. population); a missing one is an error.
    nonnegative, positive:
        Fields that must be >= 0 (counts) or > 0 (denominators, populations, rates
        to be logged).
    open_unit:
        Fields that must lie strictly between 0 and 1 (proportions to be logit-ed).
    not_above:
        Pairs ``(a, b)`` where ``a <= b`` must hold (numerator and denominator).
    quantiles:
        Fields holding quantile numbers: whole numbers from 1 (most deprived) to
        :data:`MAX_QUANTILES`.
    keys:
        ``(argument name, group keys)``, e.g. ``("by", table["area_code"])``: one key
        per row of the fields, of any type (area codes, say), as an array or Series, or
        a DataFrame of several key columns; no key may be missing. The keys' columns are
        named after the Series (or the DataFrame's columns), else after the argument.
    context:
        Words added to messages to say what the check is for (e.g. "for a proportion").

    Returns
    -------
    Checked
        Arrays keyed by field name, the row index (the first Series' index, else
        positions), whether every input was a scalar, a mask of rows with any missing
        field, and the group keys. Missing values are never errors here (except
        ``required`` fields and keys).
    """
    scalar = all(np.ndim(v) == 0 for v in fields.values())
    arrays = {name: _as_float(name, values) for name, values in fields.items()}
    sized = {name: len(a) for name, a in arrays.items()}
    lengths = set(sized.values()) - {1}
    key_frame = None
    if keys is not None:  # keys do not broadcast: one per row
        key_frame = _key_frame(*keys)
        sized[keys[0]] = len(key_frame)
        lengths.add(len(key_frame))
    if len(lengths) > 1:
        sizes = ", ".join(f"{name} has {size}" for name, size in sized.items())
        raise StatsInputError(f"inputs have different lengths ({sizes}): give one value per row for each.")
    n = lengths.pop() if lengths else 1
    arrays = {name: np.broadcast_to(a, n).copy() for name, a in arrays.items()}
    index = _index_of(fields, n)
    tail = f" {context}" if context else ""

    def first(mask: np.ndarray) -> int | None:
        hits = np.flatnonzero(mask)
        return int(hits[0]) if hits.size else None

    for name in required:
        pos = first(np.isnan(arrays[name]))
        if pos is not None:
            raise StatsInputError(f"{name} is missing in {row_name(index, pos)}: every row needs a {name}{tail}.")
    for name in nonnegative:
        pos = first(arrays[name] < 0)
        if pos is not None:
            raise StatsInputError(
                f"{name} is negative ({arrays[name][pos]:g}) in {row_name(index, pos)}: it cannot be below zero{tail}."
            )
    for name in positive:
        pos = first(arrays[name] <= 0)
        if pos is not None:
            raise StatsInputError(
                f"{name} is {arrays[name][pos]:g} in {row_name(index, pos)}: it must be above zero{tail}."
            )
    for name in open_unit:
        pos = first((arrays[name] <= 0) | (arrays[name] >= 1))
        if pos is not None:
            raise StatsInputError(
                f"{name} is {arrays[name][pos]:g} in {row_name(index, pos)}: "
                f"it must lie strictly between 0 and 1{tail}."
            )
    for name in quantiles:
        q = arrays[name]
        pos = first(~np.isnan(q) & ((q != np.round(q)) | (q < 1) | (q > MAX_QUANTILES)))
        if pos is not None:
            raise StatsInputError(
                f"{name} is {q[pos]:g} in {row_name(index, pos)}: quantiles are whole numbers from 1 "
                f"(most deprived) to at most {MAX_QUANTILES}{tail}."
            )
    if key_frame is not None:
        absent = key_frame.isna().to_numpy()
        pos = first(absent.any(axis=1))
        if pos is not None:
            column = key_frame.columns[int(np.flatnonzero(absent[pos])[0])]
            which = keys[0] if column == keys[0] else f"{keys[0]} ({column!r})"
            raise StatsInputError(
                f"{which} is missing in {row_name(index, pos)}: every row needs the key of its group{tail}."
            )
    for small, big in not_above:
        pos = first(arrays[small] > arrays[big])
        if pos is not None:
            raise StatsInputError(
                f"{small} ({arrays[small][pos]:g}) is above {big} ({arrays[big][pos]:g}) in "
                f"{row_name(index, pos)}: {small} must not exceed {big}{tail}."
            )
    missing = np.zeros(n, dtype=bool)
    for a in arrays.values():
        missing |= np.isnan(a)
    return Checked(values=arrays, index=index, scalar=scalar, missing=missing, keys=key_frame)


def _key_frame(name: str, values: object) -> pd.DataFrame:
    """Group keys as a frame with positions for rows: a DataFrame keeps its columns, a
    Series its name (or the argument's name when it has none), anything else is one key."""
    if isinstance(values, pd.DataFrame):
        frame = values
    elif isinstance(values, pd.Series):
        frame = values.to_frame(name if values.name is None else values.name)
    elif np.ndim(values) == 1:
        frame = pd.DataFrame({name: list(values) if not isinstance(values, np.ndarray) else values})
    else:
        raise StatsInputError(
            f"{name} must hold one group key per row (an array, a Series or a DataFrame of key columns), "
            f"not {type(values).__name__}."
        )
    if frame.shape[1] == 0:
        raise StatsInputError(f"{name} has no key columns: give at least one.")
    return frame.reset_index(drop=True)


def group_positions(keys: pd.DataFrame | None, n: int, *, sort: bool) -> dict[object, np.ndarray]:
    """Row positions of each group of checked keys (:attr:`Checked.keys`), by key; a key
    is a tuple when there are several key columns. Without keys the ``n`` rows are one
    group, keyed ``()``."""
    if keys is None:
        return {(): np.arange(n)}
    return keys.groupby(list(keys.columns), sort=sort).indices


def warn_missing(checked: Checked, fields: str, stacklevel: int = 3) -> None:
    """Warn once, counting rows whose outputs are missing because an input was."""
    k = int(checked.missing.sum())
    if k:
        warnings.warn(
            SuppressedInputWarning(
                f"{k} of {checked.missing.size} rows have a missing {fields} (suppressed?); "
                "their value and limits are left missing."
            ),
            stacklevel=stacklevel,
        )
