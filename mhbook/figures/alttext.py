"""Words generated from the data for alt text and captions.

Alt text follows the usual guidance for charts (say the kind of chart, what is measured,
the range or extremes, and the key comparison) and is written from the numbers actually
drawn, so it can never disagree with the figure. Missing (suppressed) values are counted
and said, because a gap in a chart is invisible to a screen-reader user.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd


def plural(n: int, noun: str) -> str:
    """``"1 decile"``, ``"3 deciles"``, ``"2 authorities"``."""
    if n == 1:
        return f"{n} {noun}"
    if re.search(r"[^aeiou]y$", noun):
        return f"{n} {noun[:-1]}ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return f"{n} {noun}es"
    return f"{n} {noun}s"


def caption_for_suppression(n_missing: int, what: str) -> str:
    """A sentence saying how many ``what`` (singular noun) are missing, or "" if none.

    For example ``caption_for_suppression(3, "decile")`` gives
    "3 deciles are suppressed (small numbers) and left blank, not drawn as zero."
    """
    if n_missing < 0:
        raise ValueError(f"caption_for_suppression: n_missing={n_missing}, expected >= 0")
    if n_missing == 0:
        return ""
    verb = "is" if n_missing == 1 else "are"
    return f"{plural(n_missing, what)} {verb} suppressed (small numbers) and left blank, not drawn as zero."


def format_value(value: float, unit: str = "", decimals: int = 1) -> str:
    """A value with its unit for prose: ``43.2%``, ``1,234.5 per 100,000 population``, ``1.25``."""
    if pd.isna(value):
        return "suppressed"
    text = f"{value:,.{decimals}f}"
    if not unit:
        return text
    if unit.startswith("%"):
        return f"{text}{unit}"
    return f"{text} {unit}"


def axis_label(measure: str, unit: str = "") -> str:
    """Lowercase axis label with its unit in brackets; acronyms such as IMD keep their case."""
    words = measure.split(" ")
    if words and words[0][:2] != words[0][:2].upper():
        words[0] = words[0][:1].lower() + words[0][1:]
    label = " ".join(words)
    return f"{label} ({unit})" if unit else label


def column_name(measure: str, unit: str = "") -> str:
    """A CSV column name carrying the unit, e.g. ``recovery_rate_pct``."""
    text = f"{measure} {unit}".replace("%", " pct ").replace(",", "")
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def decile_gradient(deciles: pd.Series, values: pd.Series, unit: str, decimals: int = 1) -> str:
    """Describe values by IMD decile from the most to the least deprived decile shown.

    Gives "from 43.2% in decile 1 (most deprived) to 58.1% in decile 10 (least deprived)",
    adding the peak or trough when it lies between the two ends.
    """
    frame = pd.DataFrame({"d": deciles.to_numpy(), "v": values.to_numpy()}).dropna().sort_values("d")
    if frame.empty:
        return "no values shown (all suppressed)"
    first, last = frame.iloc[0], frame.iloc[-1]

    def where(row) -> str:
        d = int(row["d"])
        tag = " (most deprived)" if d == 1 else " (least deprived)" if d == 10 else ""
        return f"{format_value(row['v'], unit, decimals)} in decile {d}{tag}"

    text = f"from {where(first)} to {where(last)}"
    inner = frame.iloc[1:-1]
    if not inner.empty:
        top, bottom = inner.loc[inner["v"].idxmax()], inner.loc[inner["v"].idxmin()]
        if top["v"] > max(first["v"], last["v"]):
            text += f", peaking at {where(top)}"
        elif bottom["v"] < min(first["v"], last["v"]):
            text += f", lowest at {where(bottom)}"
    return text


def extremes(labels: pd.Series, values: pd.Series, unit: str, decimals: int = 1) -> str:
    """ "highest X (label), lowest Y (label)" over the non-missing values."""
    s = pd.Series(values.to_numpy(), index=labels.to_numpy()).dropna()
    if s.empty:
        return "no values shown (all suppressed)"
    hi, lo = s.idxmax(), s.idxmin()
    return f"highest {format_value(s[hi], unit, decimals)} ({hi}), lowest {format_value(s[lo], unit, decimals)} ({lo})"


def join(*parts: str) -> str:
    """Join sentence fragments, skipping empty ones, each ending with a full stop."""
    out = []
    for part in parts:
        part = part.strip()
        if not part:
            continue
        out.append(part if part.endswith((".", "!", "?")) else part + ".")
    return " ".join(out)


def count_missing(values: pd.Series | np.ndarray) -> int:
    """Number of missing values (NaN or NA) in ``values``."""
    return int(pd.isna(pd.Series(values)).sum())
