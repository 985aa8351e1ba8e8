"""Measure the build's speed on this machine, in one run, against the naive loop.

    python benchmarks/build_speed.py [--areas N] [--sample 5] [--only CHAPTER ...] [--jobs N]

Needs MHBOOK_MIRROR (and, ideally, its own MHBOOK_CACHE). Steps, each timed in
wall-clock seconds:

1. ``one_area_cold_s``: ``mhbook build AREA`` into an empty output folder;
2. ``all_cold_s``: ``mhbook build --all`` (or the first ``--areas N``) into an empty folder;
3. ``warm_s``: the same again, nothing changed;
4. ``refresh_s``: the same after one dataset "changed": the stored hash of
   ``--changed-dataset`` is altered in every output record, exactly what the build
   sees after a refresh moves the catalogue's hash (the catalogue is not edited);
5. ``naive_per_area_s``: the old loop on ``--sample`` areas, serially: papermill
   per notebook (a new kernel each), then ``jupyter-book build`` per area.

"Cold" means no built outputs; the dataset cache and the tidy-table Parquet cache
are filled first (a warm-up build of one area in a scratch folder) so that every
step, the naive loop included, starts from the same verified data.

``peak_rss_mib`` is the largest total resident memory of a build's process tree
(the mhbook command, its workers and its browser), sampled every 0.2 s;
it counts a page shared by several processes (libraries, Chromium's helpers) once in
each. ``peak_pss_mib`` (proportional set size, sampled every 1 s) counts it once.
Prints a table, then as its last line one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
MHBOOK = str(Path(sys.executable).with_name("mhbook"))


def _tree_memory(proc: psutil.Process, pss: bool) -> int:
    """Summed RSS of ``proc`` and its descendants (counts shared pages once per process),
    or with ``pss`` their proportional set sizes (shared pages split between sharers)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_full_info().pss if pss else p.memory_info().rss
        except psutil.Error:
            pass
    return total


def timed(cmd: list[str]) -> tuple[float, int, int]:
    """Run ``cmd``; its wall seconds and the peak summed RSS and PSS (bytes) of its process
    tree (RSS sampled every 0.2 s; PSS, dearer to read, every 1 s)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0, 0]
    ps = psutil.Process(proc.pid)

    def sample():
        tick = 0
        while proc.poll() is None:
            try:
                peak[0] = max(peak[0], _tree_memory(ps, pss=False))
                if tick % 5 == 0:
                    peak[1] = max(peak[1], _tree_memory(ps, pss=True))
            except psutil.Error:
                pass
            tick += 1
            time.sleep(0.2)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    output, _ = proc.communicate()
    watcher.join()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:  # failing pages are the chapters' business: time the build anyway
        sys.stderr.write(f"build exited {proc.returncode} (failures listed below); timing kept\n{output[-3000:]}\n")
    return seconds, peak[0], peak[1]


def build_cmd(out: Path, areas: list[str], only: list[str], jobs: int | None, everything: bool) -> list[str]:
    cmd = [MHBOOK, "build", *([] if everything else areas), "--out", str(out)]
    cmd += ["--all"] if everything else []
    cmd += [x for c in only for x in ("--only", c)]
    cmd += ["--jobs", str(jobs)] if jobs else []
    return cmd


def change_dataset(out: Path, dataset: str) -> int:
    """Alter the stored hash of ``dataset`` in every record; returns how many records read it."""
    n = 0
    for path in (out / ".mhbook-build" / "records").rglob("*.json"):
        rec = json.loads(path.read_text("utf-8"))
        if dataset in rec["datasets"]:
            rec["datasets"][dataset] = "0" * 64
            path.write_text(json.dumps(rec), "utf-8")
            n += 1
    return n


def naive(out: Path, codes: list[str], only: list[str]) -> float:
    """The old loop: papermill per notebook (new kernel each), jupyter-book per area, serially."""
    import jupytext
    import papermill

    from mhbook import build

    names = build.notebook_names(ROOT, only or None)
    jb = str(Path(sys.executable).with_name("jupyter-book"))
    start = time.perf_counter()
    for code in codes:
        staging = out / code
        staging.mkdir(parents=True)
        for name in names:
            nb = jupytext.read(ROOT / "notebooks" / f"{name}.md")
            nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
            jupytext.write(nb, staging / f"{name}.ipynb", fmt="ipynb")
            papermill.execute_notebook(str(staging / f"{name}.ipynb"), str(staging / f"{name}.ipynb"),
                                       parameters={"area_code": code}, cwd=str(staging), kernel_name="python3",
                                       progress_bar=False)
        for page in (ROOT / "book").iterdir():
            if page.is_file():
                shutil.copy(page, staging / page.name)
        build.write_book_config(ROOT, staging, code, names)
        subprocess.run([jb, "build", str(staging), "-W", "-n", "--keep-going", "-q"], check=True,
                       capture_output=True)
    return (time.perf_counter() - start) / len(codes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, default=None, help="limit 'all areas' to the first N (default: all)")
    parser.add_argument("--sample", type=int, default=5, help="areas in the naive loop (at least 5)")
    parser.add_argument("--only", action="append", default=[], help="chapters to build (default: all)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: cores)")
    parser.add_argument("--changed-dataset", default="iapt-annual", help="dataset whose change is simulated")
    parser.add_argument("--workdir", default=None, help="scratch folder (default: a temporary one)")
    args = parser.parse_args()

    from mhbook import areas

    codes = [a.code for a in areas.all_areas()]
    everything = args.areas is None
    chosen = codes if everything else codes[: args.areas]
    work = Path(args.workdir or tempfile.mkdtemp(prefix="mhbook-bench-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    peak, peak_pss = 0, 0

    def run(out: Path, areas_: list[str], all_: bool) -> float:
        nonlocal peak, peak_pss
        s, rss, pss = timed(build_cmd(out, areas_, args.only, args.jobs, all_))
        peak, peak_pss = max(peak, rss), max(peak_pss, pss)
        return s

    run(work / "warmup", [codes[-1]], False)  # fills the data and tidy-table caches
    one = run(work / "one", [codes[0]], False)
    all_out = work / "all"
    cold = run(all_out, chosen, everything)
    warm = run(all_out, chosen, everything)
    n_changed = change_dataset(all_out, args.changed_dataset)
    refresh = run(all_out, chosen, everything)
    sample = codes[:: max(1, len(codes) // args.sample)][: args.sample]
    naive_s = naive(work / "naive", sample, args.only)
    result = {
        "one_area_cold_s": round(one, 1),
        "all_cold_s": round(cold, 1),
        "warm_s": round(warm, 1),
        "refresh_s": round(refresh, 1),
        "naive_per_area_s": round(naive_s, 1),
        "speedup": round(naive_s * len(chosen) / cold, 2),
        "peak_rss_mib": round(peak / 2**20),
        "peak_pss_mib": round(peak_pss / 2**20),
    }
    rows = [
        ("one area from cold", f"{one:.1f} s", "1 area"),
        ("all areas from cold", f"{cold:.1f} s", f"{len(chosen)} areas, {cold / len(chosen):.2f} s/area"),
        ("all areas, nothing changed", f"{warm:.1f} s", ""),
        (f"all areas, {args.changed_dataset} changed", f"{refresh:.1f} s", f"{n_changed} outputs read it"),
        ("naive loop", f"{naive_s:.1f} s/area", f"{len(sample)} areas: {', '.join(sample)}"),
        ("speedup (naive x areas / all cold)", f"{result['speedup']}x", ""),
        ("peak RSS of a build", f"{result['peak_rss_mib']} MiB", "summed over its processes"),
        ("peak PSS of a build", f"{result['peak_pss_mib']} MiB", "shared pages counted once"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"mhbook build speed ({os.cpu_count()} cores, chapters: {', '.join(args.only) or 'all'})")
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:>14}  {note}")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
