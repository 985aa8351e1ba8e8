"""Mental Health Act detentions by ethnic group, as rate ratios against White (numbers only).

Latest Mental Health Act year (``mhbook.sources.mha``), "All detentions" by ethnicity, with
95% limits. The file publishes no populations, so:

* **standardised rates** (England only) carry 95% limits ``rate ± h``; taking ``h`` as
  1.96 standard errors, the ratio of two independent rates has
  ``SE(log ratio) = sqrt((h1 / 1.96 r1)² + (h2 / 1.96 r2)²)`` (delta method);
* **crude rates** (England and ICBs) come with counts, so each group's population is
  recovered as ``count × 100,000 / rate`` and ``stats.ratio(kind="rate")`` gives the
  published rate ratio with Poisson log limits ``sqrt(1/O1 + 1/O2)``. Below England the
  counts are rounded to 5, so the recovered population and the limits are approximate.

Ethnicity is published for England and ICBs only, from MHSDS (not ECDS), so its totals
are lower than the all-source England total. Sub-ICB Locations have overall rates only
(``subicb_detentions``). The words, charts and tables made from these numbers are in
``mhbook.pages.exploring_inequality``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mhbook import periods, reads, stats
from mhbook.areas import Area
from mhbook.constants import BROAD_ETHNIC_GROUPS
from mhbook.measures._quiet import quietly
from mhbook.measures.footprints import Footprint, iapt_footprint
from mhbook.sources import mha

#: The reference group every ratio is taken against (includes the detailed White groups).
REFERENCE = "White"
#: The published measure used: every detention under the Act, all sections.
MEASURE_MHA = "All detentions"


@reads.cached(maxsize=2)
def _mha_detentions(rate_type: str) -> pd.DataFrame:
    # One rate type at a time, so no row is counted twice; validated once per session.
    df = mha.detentions(rate_type)
    return df[(df["measure"] == MEASURE_MHA)].reset_index(drop=True)


def _mha_rows(rate_type: str, org_type: str, org_code: str | None) -> pd.DataFrame:
    df = _mha_detentions(rate_type)
    df = df[(df["measure"] == MEASURE_MHA) & (df["breakdown"] == "ethnicity") & (df["org_type"] == org_type)]
    if org_code is not None:
        df = df[df["org_code"] == org_code]
    return df[df["value"].notna() | df["count_status"].eq("suppressed")].reset_index(drop=True)


def _ratio_standardised(rows: pd.DataFrame) -> pd.DataFrame:
    ref = rows[rows["group"] == REFERENCE].iloc[0]
    z = stats.proportions.z_value(0.95)
    se1 = (rows["upper_cl"] - rows["value"]) / z / rows["value"]
    se2 = (ref["upper_cl"] - ref["value"]) / z / ref["value"]
    ratio = rows["value"] / ref["value"]
    se = np.sqrt(se1**2 + se2**2)
    return pd.DataFrame(
        {
            "ratio": ratio,
            "lower_cl": ratio * np.exp(-z * se),
            "upper_cl": ratio * np.exp(z * se),
            "reference_rate": ref["value"],
            "method": "ratio of standardised rates; log limits from the published 95% limits",
        }
    )


def _ratio_crude(rows: pd.DataFrame) -> pd.DataFrame:
    ref = rows[rows["group"] == REFERENCE]
    if ref.empty or pd.isna(ref["count"].iloc[0]) or not ref["value"].iloc[0] > 0:
        nan = pd.Series(np.nan, index=rows.index)
        return pd.DataFrame(
            {
                "ratio": nan,
                "lower_cl": nan,
                "upper_cl": nan,
                "reference_rate": np.nan,
                "method": "not computed: the White count or rate is suppressed",
            }
        )
    ref = ref.iloc[0]
    # Populations are not published; count / rate gives them back (approximately, as
    # sub-national counts are rounded to 5), and then the ratio equals the published one.
    pop = (rows["count"] * 100_000 / rows["value"]).where(rows["value"] > 0)
    res = quietly(
        stats.ratio,
        rows["count"].where(pop.notna()),
        pop,
        ref["count"],
        ref["count"] * 100_000 / ref["value"],
        kind="rate",
    )
    return pd.DataFrame(
        {
            "ratio": res["value"],
            "lower_cl": res["lower_cl"],
            "upper_cl": res["upper_cl"],
            "reference_rate": ref["value"],
            "method": "ratio of crude rates; Poisson log limits, populations recovered as count / rate",
        }
    )


def _ratios(rows: pd.DataFrame, rate_type: str, broad_only: bool) -> pd.DataFrame:
    if broad_only:
        rows = rows[rows["group"].isin(BROAD_ETHNIC_GROUPS)].reset_index(drop=True)
    r = _ratio_standardised(rows) if rate_type == "standardised" else _ratio_crude(rows)
    out = pd.DataFrame(
        {
            "period": rows["period"],
            "org_type": rows["org_type"],
            "org_code": rows["org_code"],
            "org_name": rows["org_name"],
            "rate_type": rate_type,
            "level": np.where(rows["group"].isin(BROAD_ETHNIC_GROUPS), "broad", "detailed"),
            "group": rows["group"],
            "count": rows["count"],
            "count_status": rows["count_status"],
            "rate": rows["value"],
            "rate_lower": rows["lower_cl"],
            "rate_upper": rows["upper_cl"],
        }
    )
    out = pd.concat([out, r], axis=1)
    out = out[out["group"] != REFERENCE]
    out["significance"] = stats.compare_to_benchmark(out["ratio"], out["lower_cl"], out["upper_cl"], 1.0)
    return out.reset_index(drop=True)


def mha_icb(area: Area) -> Footprint:
    """The ICB covering most of ``area`` (ICBs have not changed since July 2022)."""
    return iapt_footprint(area, periods.latest("mha"))


def detention_ratios(area: Area | None = None) -> pd.DataFrame:
    """Detention rate ratios by ethnicity against White, MHA (latest year), 95% limits.

    Rows: England standardised (broad and detailed groups), England crude (broad), and
    the area's ICB crude (broad) when ``area`` is given. Columns: ``period, org_type,
    org_code, org_name, rate_type`` ("standardised"/"crude"), ``level`` ("broad"/
    "detailed"), ``group``, ``count`` (detentions; missing when suppressed),
    ``count_status``, ``rate`` (per 100,000) with ``rate_lower``/``rate_upper``
    (standardised only), ``ratio``, ``lower_cl``, ``upper_cl``, ``reference_rate``
    (White's rate), ``method``, ``significance`` ("Higher", "Similar", "Lower" than 1,
    "Not compared"). Groups with no rate ("Not Known", "Not Stated", "Unknown") are left
    out. Detailed White groups are part of the White reference, so their ratios are not
    independent of it.
    """
    parts = [
        _ratios(_mha_rows("standardised", "England", None), "standardised", broad_only=False),
        _ratios(_mha_rows("crude", "England", None), "crude", broad_only=True),
    ]
    if area is not None:
        icb = mha_icb(area)
        rows = _mha_rows("crude", "ICB", icb.org_code) if icb.available else pd.DataFrame()
        if not rows.empty:
            parts.append(_ratios(rows, "crude", broad_only=True))
    return pd.concat(parts, ignore_index=True)


def subicb_detentions(area: Area) -> pd.DataFrame:
    """Overall detention rates of the Sub-ICB Locations covering ``area`` (no ethnicity is
    published for them). Sub-ICB codes and shares are the July 2022 ones
    (``area.footprints("2021-22")``). Columns: ``org_code, org_name, population_share,
    count, count_status, rate`` (crude, per 100,000), ``england_rate`` (the publisher's
    MHSDS total over Sub-ICBs, the like-for-like comparator)."""
    fp = area.footprints("2021-22")[["org_code", "population_share"]]
    rows = _mha_detentions("crude")
    rows = rows[(rows["breakdown"] == "all") & (rows["org_type"] == "Sub-ICB")]
    england = float(rows.loc[rows["org_code"] == "ALL", "value"].iloc[0])
    out = fp.merge(rows[["org_code", "org_name", "count", "count_status", "value"]], on="org_code", how="left")
    return out.rename(columns={"value": "rate"}).assign(england_rate=england)
