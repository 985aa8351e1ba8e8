"""The slope index of inequality in Talking Therapies recovery across IMD deciles.

One method for every chapter that shows it (England's series in ``iapt_deprivation``,
the area's footprint in ``local_series``): PHE's SII and RII (:func:`mhbook.stats.sii`)
of each decile's recovery rate, the deciles weighted by the number of people at
caseness who finished treatment, and limits simulated on the logit scale from each
decile's 95% limits as the caller gives them (Wilson limits; ``local_series`` widens
them first for counts rounded to 5).
"""

from __future__ import annotations

import pandas as pd

from mhbook import stats
from mhbook.measures._quiet import quietly


def recovery_sii(
    *,
    decile: pd.Series,
    at_caseness: pd.Series,
    recovery_pct: pd.Series,
    recovery_pct_lower: pd.Series,
    recovery_pct_upper: pd.Series,
    repetitions: int,
    random_state: int,
) -> pd.DataFrame:
    """SII and RII of recovery across the given deciles, one row.

    Parameters
    ----------
    decile:
        IMD decile of each row (1 = most deprived); all inputs are aligned Series, one
        row per decile, whose index names rows in error messages.
    at_caseness:
        People at caseness who finished treatment in the decile (the weights).
    recovery_pct, recovery_pct_lower, recovery_pct_upper:
        Recovery (% of ``at_caseness``) and its 95% limits, strictly between 0 and 100.
    repetitions, random_state:
        Simulation draws and seed (see :func:`mhbook.stats.sii`).

    Returns
    -------
    pandas.DataFrame
        :func:`mhbook.stats.sii`'s one row: ``sii`` with ``sii_lower_cl`` and
        ``sii_upper_cl`` in percentage points (positive = recovery higher at the least
        deprived end), ``rii`` (least over most deprived end) with its limits,
        ``intercept`` (%, the fitted most deprived end). Suppressed inputs give missing
        outputs, without a warning (the pages count them).
    """
    return quietly(
        stats.sii,
        quantile=decile,
        population=at_caseness,
        value=recovery_pct / 100,
        lower_cl=recovery_pct_lower / 100,
        upper_cl=recovery_pct_upper / 100,
        value_type=2,
        rii=True,
        multiplier=100,
        repetitions=repetitions,
        random_state=random_state,
    )
