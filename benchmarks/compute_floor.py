"""Time (and optionally profile) the measures and figures of areas alone, outside the build.

    python benchmarks/compute_floor.py AREA [AREA ...] [--warm-up AREA] [--profile FILE]

Executes every chapter notebook of each AREA in this process, as a build worker does
(``mhbook.build.execute`` in one IPython shell, the ``parameters`` cell injected), but writes
nothing: no output store, no Sphinx, no documents. What is left is the compute-only
floor of a build: the seconds an area's measures and figures cost at the least.

``--warm-up AREA`` executes that area first, untimed, so the timed areas find imports,
tidy tables and England-level results in memory, as every area after a worker's first
does. ``--profile FILE`` writes a ``cProfile`` profile of the timed areas (read it with
``python -m pstats FILE``). ``--keep DIR`` keeps what the notebooks wrote (figures, CSVs)
in DIR, one folder per area and notebook, to compare the images of two versions. Needs the dataset and tidy-table caches (or ``MHBOOK_MIRROR``).

Prints one JSON object: per area and notebook the wall and CPU seconds, and their
totals (``floor_s``, ``floor_cpu_s`` per area on average).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import tempfile
import time
from pathlib import Path


def execute_area(code: str, names: list[str], root: Path, workdir: Path) -> dict[str, tuple[float, float]]:
    """Execute each notebook of ``names`` for area ``code``; notebook -> (wall s, CPU s)."""
    import matplotlib.pyplot as plt

    from mhbook import reads
    from mhbook.build import execute, workers

    seconds = {}
    for name in names:
        src = root / "notebooks" / f"{name}.md"
        params = {"area_code": code}  # every chapter takes the area
        nb = workers.prepare_notebook(src, params)
        folder = workdir / f"{code}-{name}"
        folder.mkdir(parents=True)
        wall, cpu = time.perf_counter(), time.process_time()
        execute.shell()
        workers.clear_namespace()
        plt.close("all")
        with reads.collecting():  # the build records dataset reads while executing: so does the floor
            execute.execute(nb, folder, workers.CELL_TIMEOUT_S)
        seconds[name] = (time.perf_counter() - wall, time.process_time() - cpu)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("areas", nargs="+", help="County & UA codes to time")
    parser.add_argument("--warm-up", default=None, help="an area executed first, untimed")
    parser.add_argument("--only", action="append", default=[], help="chapters (default: all)")
    parser.add_argument("--profile", default=None, help="write a cProfile profile of the timed areas here")
    parser.add_argument("--keep", default=None, help="keep what the notebooks wrote in this folder (to compare images)")
    args = parser.parse_args()

    from mhbook import build

    root = build.project_root()
    names = build.notebook_names(root, args.only or None)
    with tempfile.TemporaryDirectory(prefix="mhbook-floor-") as tmp:
        work = Path(args.keep or tmp)
        if args.warm_up:
            execute_area(args.warm_up, names, root, work / "warm-up")
        # CPU time, not wall time: on a shared machine waiting for a core is not cost.
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        timed = {}
        for code in args.areas:
            if profiler:
                profiler.enable()
            timed[code] = execute_area(code, names, root, work / code)
            if profiler:
                profiler.disable()
        if profiler:
            profiler.dump_stats(args.profile)
    per_area = [sum(w for w, _ in nbs.values()) for nbs in timed.values()]
    per_area_cpu = [sum(c for _, c in nbs.values()) for nbs in timed.values()]
    print(
        json.dumps(
            {
                "areas": {
                    code: {nb: {"s": round(w, 2), "cpu_s": round(c, 2)} for nb, (w, c) in nbs.items()}
                    for code, nbs in timed.items()
                },
                "floor_s": round(sum(per_area) / len(per_area), 2),
                "floor_cpu_s": round(sum(per_area_cpu) / len(per_area_cpu), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
