"""The house style, applied centrally.

Every chart and map is drawn inside :func:`apply`, which loads ``mhbook.mplstyle`` (next to
this module) into a temporary Matplotlib rc context. Nothing is changed globally, so a
notebook's own plots and other libraries keep their settings. Use it as a context manager
(``with style.apply(): ...``) or a decorator (``@style.apply()``).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import matplotlib.style

STYLE_FILE = Path(__file__).with_name("mhbook.mplstyle")


def apply() -> contextlib.AbstractContextManager:
    """Return a context manager (also usable as a decorator) that applies the house style."""
    return matplotlib.style.context(STYLE_FILE)
