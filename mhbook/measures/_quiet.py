"""Running statistics on published counts, where suppression is expected."""

from __future__ import annotations

import warnings

from mhbook import stats


def quietly(func, *args, **kwargs):
    """Call a ``mhbook.stats`` function without its warning about missing (suppressed)
    inputs: in published sub-national counts suppression is expected, and each page says
    how many values were suppressed instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.SuppressedInputWarning)
        return func(*args, **kwargs)
