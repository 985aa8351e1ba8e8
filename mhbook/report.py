"""Helpers that put computed values into a page: every number in the prose is glued."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from IPython.display import Markdown
from myst_nb import glue


def glue_all(values: Mapping[str, object]) -> None:
    """Glue each value under its key for ``{glue:text}`` roles; strings are glued as
    Markdown so that ``{glue:md}`` renders them without quotes."""
    for key, value in values.items():
        if isinstance(value, np.generic):  # numpy scalars glue as "np.float64(...)"
            value = value.item()
        glue(key, Markdown(value) if isinstance(value, str) else value, display=False)
