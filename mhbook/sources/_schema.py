"""Schema checks shared by every source parser.

A parser checks the published file's header before parsing (``check_columns``) and its
tidy result against a pandera schema after (``validate``); both raise
:class:`mhbook.errors.SchemaError` naming the dataset or file, each failing column and
what was expected, so a changed publication stops the build with a readable message.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pandera.pandas as pa

from mhbook.errors import SchemaError


def validate(df: pd.DataFrame, schema: pa.DataFrameSchema, where: str) -> pd.DataFrame:
    """``df`` checked against ``schema`` (all failures collected, then one error)."""
    try:
        return schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        parts = []
        cases = exc.failure_cases
        for (column, check), rows in cases.groupby(["column", "check"], dropna=False, sort=False):
            examples = ", ".join(map(repr, rows["failure_case"].drop_duplicates().head(3)))
            name = "(table)" if pd.isna(column) else repr(column)
            parts.append(f"column {name}: expected {check}, found {examples}")
        raise SchemaError(f"{where}: the tidy table does not match its schema; " + "; ".join(parts[:8])) from None


def check_columns(found: Iterable[str], expected: Iterable[str], where: str, exact: bool = False) -> None:
    """Stop when a published file lacks an expected column (or, with ``exact``, has others)."""
    found, expected = list(found), list(expected)
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected] if exact else []
    if missing or extra:
        raise SchemaError(
            f"{where}: the published file's columns have changed; missing {missing}"
            + (f", unexpected {extra}" if extra else "")
            + f"; expected {'exactly ' if exact else ''}{expected}"
        )
