"""What a build has to do: for each area, which notebooks to execute and why.

An output (one area x one notebook) is executed when the store says it is stale
(``Store.stale_reason``: new, changed notebook, parameters, code or datasets). An area
with nothing to execute is left out when its site's key is unchanged too; otherwise its
job renders the site again (e.g. a changed book page or local text).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mhbook.areas import Area
from mhbook.build.jobs import AreaJob
from mhbook.build.project import notebook_names, project_root
from mhbook.build.reasons import Reason
from mhbook.build.render import site_key
from mhbook.build.store import OutputKey, Store
from mhbook.build.versions import catalogue_digest, code_version


@dataclass
class Plan:
    """The area jobs to run, why each output runs, and how many areas are already current."""

    jobs: list[AreaJob]
    reasons: dict[tuple[str, str], Reason]  # (area code, notebook) -> why it is executed
    up_to_date: int


def make_plan(
    areas: list[Area], out: Path, only: list[str] | None, local: dict[str, dict[str, str]] | None = None
) -> Plan:
    """The jobs that bring the sites of ``areas`` in ``out`` up to date (``only``: these
    chapters; ``local``: area code -> chapter -> the authors' text)."""
    root = project_root()
    store = Store(out)
    names = notebook_names(root, only)
    paths = {nb: root / "notebooks" / f"{nb}.md" for nb in names}
    code, cat = code_version(), catalogue_digest()
    reasons: dict[tuple[str, str], Reason] = {}
    jobs, up_to_date = [], 0
    for area in areas:
        texts = (local or {}).get(area.code, {})
        execute = {}
        for nb in names:
            why = store.stale_reason(OutputKey.for_notebook(area.code, nb, paths[nb], {"area_code": area.code}))
            if why:
                execute[nb] = reasons[(area.code, nb)] = why
        if not execute and store.site_current(
            area.code, site_key(store, root, area.code, names, texts), out / area.code
        ):
            up_to_date += 1
            continue
        jobs.append(
            AreaJob(
                area.code, area.name, str(out), str(root), names, execute, code, cat, build_pid=os.getpid(), local=texts
            )
        )
    return Plan(jobs, reasons, up_to_date)
