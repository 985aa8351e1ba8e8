"""Measure the build's speed on this machine, in one run, against the naive loop.

    python benchmarks/build_speed.py [--areas N] [--sample 5] [--only CHAPTER ...] [--jobs N]
    python benchmarks/build_speed.py --single-area   # steps 0 and 1 only (a few minutes)

Needs MHBOOK_MIRROR. Every build runs with its own, at first empty, cache folder
(``MHBOOK_CACHE`` under the scratch folder), so the first step starts as a new user's
clone does. Steps, each timed in wall-clock seconds:

0. ``first_use_s``: ``mhbook build AREA`` (the last area) with empty dataset, tidy-table
   and figure caches: datasets copied from the mirror and verified, parsed into tidy
   tables, then the build; this fills the caches every later step uses;
1. ``warm_one_area_s`` (also kept as ``one_area_cold_s``): ``mhbook build AREA`` (the
   first area) into an empty output folder, with warm caches;
2. ``all_cold_s``: ``mhbook build --all`` (or the first ``--areas N``) into an empty folder;
3. ``warm_s``: the same again, nothing changed;
4. ``refresh_s``: the same after one dataset "changed": the stored hash of
   ``--changed-dataset`` is altered in every output record, exactly what the build
   sees after a refresh moves the catalogue's hash (the catalogue is not edited);
5. ``naive_per_area_s``: the old loop on ``--sample`` areas, serially: papermill
   per notebook (a new kernel each), then ``jupyter-book build`` per area.

``--single-area`` runs steps 0 and 1 only, the two a JSNA author meets, and checks their
targets; with the phases of each of the two builds (``phases_first_use_s``, ``phases_warm_one_s``).

"Cold" means no built outputs; the dataset cache and the tidy-table Parquet cache
are those the first-use step filled, so that every later step, the naive loop
included, starts from the same verified data.

``phases_per_area_s``: the build report (``<out>/.mhbook-build/report.json``) gives, per
area, the seconds spent executing notebooks (``execute_s``), rendering the site with
Sphinx (``render_s``) and writing the Word document, data pack, brief, print pages and
PDFs (``documents_s``); the mean over the cold build's areas is reported. ``cpu_s`` gives each step's CPU seconds, its processes summed (workers and
browser included): on a shared machine, where wall-clock time depends on the others'
work, the steadier measure. ``compute_floor_s`` is the time of one area's measures and figures alone
(``benchmarks/compute_floor.py``: its notebooks executed in one process after another
area, nothing written, every figure drawn), printed beside the build's time per area.

``peak_rss_mib`` is the largest total resident memory of a build's process tree
(the mhbook command, its workers and its browser), sampled every 0.2 s;
it counts a page shared by several processes (libraries, Chromium's helpers) once in
each. ``peak_pss_mib`` (proportional set size, sampled every 1 s) counts it once.
Prints a table and the targets checked (``targets``: each one's limit, value and
whether it passed; with ``--areas N`` the all-area times are also projected to 153
areas), then as its last line one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def _children_cpu() -> float:
    """CPU seconds of this process's ended (waited-for) children and their descendants."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str]) -> tuple[float, int, int, float]:
    """Run ``cmd``; its wall seconds, the peak summed RSS and PSS (bytes) of its process
    tree (RSS sampled every 0.2 s; PSS, dearer to read, every 1 s) and the CPU seconds of
    the whole tree (workers and browser included: on a shared machine, the steadier number)."""
    cpu_before = _children_cpu()
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
    cpu = _children_cpu() - cpu_before
    if proc.returncode != 0:  # failing pages are the chapters' business: time the build anyway
        sys.stderr.write(f"build exited {proc.returncode} (failures listed below); timing kept\n{output[-3000:]}\n")
    return seconds, peak[0], peak[1], cpu


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
            papermill.execute_notebook(
                str(staging / f"{name}.ipynb"),
                str(staging / f"{name}.ipynb"),
                parameters={"area_code": code},
                cwd=str(staging),
                kernel_name="python3",
                progress_bar=False,
            )
        for page in (ROOT / "book").iterdir():
            if page.is_file():
                shutil.copy(page, staging / page.name)
        build.write_book_config(ROOT, staging, code, names)
        subprocess.run([jb, "build", str(staging), "-W", "-n", "--keep-going", "-q"], check=True, capture_output=True)
    return (time.perf_counter() - start) / len(codes)


#: The targets of issue 18, on 2 cores: key -> (limit, how it compares, what it is).
TARGETS = {
    "all_cold_s": (600, "<=", "all 153 areas from cold, seconds"),
    "speedup": (10, ">=", "times faster than the naive loop"),
    "first_use_s": (90, "<=", "one area, empty caches, seconds"),
    "warm_one_area_s": (20, "<=", "one area, warm caches, seconds"),
    "warm_s": (5, "<=", "all areas, nothing changed, seconds"),
    "refresh_s": (150, "<=", "all areas after the changed dataset, seconds"),
    "peak_pss_mib": (2560, "<=", "peak proportional memory of a build, MiB"),
}
#: The steps whose time grows with the number of areas (projected when --areas N < 153).
PER_AREA_KEYS = ("all_cold_s", "refresh_s")


def check_targets(result: dict, n_areas: int, n_all: int) -> dict:
    """Each target's limit, the measured value (projected to every area for the all-area
    steps when fewer were built) and whether it passed; targets of steps not run are left out."""
    checked = {}
    for key, (limit, op, what) in TARGETS.items():
        if key not in result:
            continue
        value = result[key]
        projected = key in PER_AREA_KEYS and n_areas < n_all
        if projected:
            value = round(value * n_all / n_areas, 1)
        ok = value <= limit if op == "<=" else value >= limit
        checked[key] = {
            "limit": f"{op} {limit}",
            "value": value,
            "pass": ok,
            "what": what,
            **({"projected_from_areas": n_areas} if projected else {}),
        }
    return checked


def read_phases(out: Path) -> dict[str, float]:
    """The mean seconds per area of each build phase recorded in ``out``'s build store."""
    report = out / ".mhbook-build" / "report.json"
    areas = json.loads(report.read_text("utf-8"))["areas"] if report.exists() else {}
    records = [{f"{k}_s": v for k, v in a["seconds"].items()} for a in areas.values() if a.get("seconds")]
    phases = sorted({k for r in records for k in r})
    return {k: round(sum(r.get(k, 0.0) for r in records) / len(records), 2) for k in phases} if records else {}


def compute_floor(area: str, warm_up: str, only: list[str], cache: Path, work: Path) -> dict:
    """``benchmarks/compute_floor.py`` on ``area`` after ``warm_up``: its JSON result. It
    shares ``cache``'s datasets, tidy tables and kept results, but not its rendered
    figures (the builds drew ``area``'s already): the floor draws every figure it shows."""
    floor_cache = work / "floor-cache"
    shutil.rmtree(floor_cache, ignore_errors=True)
    floor_cache.mkdir(parents=True)
    for part in ("data", "tables", "results"):
        if (cache / part).exists():
            (floor_cache / part).symlink_to((cache / part).resolve())
    cmd = [sys.executable, str(ROOT / "benchmarks" / "compute_floor.py"), area, "--warm-up", warm_up]
    cmd += [x for c in only for x in ("--only", c)]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "MHBOOK_CACHE": str(floor_cache)})
    if done.returncode != 0:
        sys.stderr.write(f"compute floor failed (exit {done.returncode}):\n{done.stderr[-3000:]}\n")
        return {}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, default=None, help="limit 'all areas' to the first N (default: all)")
    parser.add_argument("--sample", type=int, default=5, help="areas in the naive loop (at least 5)")
    parser.add_argument("--only", action="append", default=[], help="chapters to build (default: all)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: cores)")
    parser.add_argument("--changed-dataset", default="iapt-annual", help="dataset whose change is simulated")
    parser.add_argument("--workdir", default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument(
        "--single-area", action="store_true", help="only first use and one warm area (steps 0 and 1), with targets"
    )
    args = parser.parse_args()

    from mhbook import areas

    if not os.environ.get("MHBOOK_MIRROR"):
        sys.exit("build_speed: set MHBOOK_MIRROR to the folder of data copies (first use starts from it)")
    codes = [a.code for a in areas.all_areas()]
    everything = args.areas is None
    chosen = codes if everything else codes[: args.areas]
    work = Path(args.workdir or tempfile.mkdtemp(prefix="mhbook-bench-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # Every step (and the naive loop's kernels) uses this cache, empty until the first-use step.
    os.environ["MHBOOK_CACHE"] = str(work / "cache")
    peak, peak_pss = 0, 0
    cpu: dict[str, float] = {}

    def run(step: str, out: Path, areas_: list[str], all_: bool) -> float:
        nonlocal peak, peak_pss
        s, rss, pss, cpu[step] = timed(build_cmd(out, areas_, args.only, args.jobs, all_))
        peak, peak_pss = max(peak, rss), max(peak_pss, pss)
        return s

    first = run("first_use_s", work / "first-use", [codes[-1]], False)  # empty caches: fills them
    one = run("warm_one_area_s", work / "one", [codes[0]], False)
    if args.single_area:
        _report_single_area(first, one, cpu, peak, peak_pss, work, codes, args)
        return
    all_out = work / "all"
    cold = run("all_cold_s", all_out, chosen, everything)
    phases = read_phases(all_out)
    warm = run("warm_s", all_out, chosen, everything)
    n_changed = change_dataset(all_out, args.changed_dataset)
    refresh = run("refresh_s", all_out, chosen, everything)
    floor = compute_floor(codes[0], codes[-1], args.only, work / "cache", work)
    sample = codes[:: max(1, len(codes) // args.sample)][: args.sample]
    naive_s = naive(work / "naive", sample, args.only)
    jobs = args.jobs or os.cpu_count() or 1
    result = {
        "one_area_cold_s": round(one, 1),
        "all_cold_s": round(cold, 1),
        "warm_s": round(warm, 1),
        "refresh_s": round(refresh, 1),
        "naive_per_area_s": round(naive_s, 1),
        "speedup": round(naive_s * len(chosen) / cold, 2),
        "peak_rss_mib": round(peak / 2**20),
        "peak_pss_mib": round(peak_pss / 2**20),
        "first_use_s": round(first, 1),
        "warm_one_area_s": round(one, 1),
        "areas": len(chosen),
        "jobs": jobs,
        "per_area_s": round(cold * jobs / len(chosen), 2),
        "phases_per_area_s": phases,
        "compute_floor_s": floor.get("floor_s"),
        "compute_floor_cpu_s": floor.get("floor_cpu_s"),
        "cpu_s": {step: round(c, 1) for step, c in cpu.items()},
    }
    result["targets"] = check_targets(result, len(chosen), len(codes))
    phase_text = ", ".join(f"{k.removesuffix('_s')} {v:.2f}" for k, v in phases.items())
    rows = [
        (
            "first use, empty caches",
            f"{first:.1f} s",
            f"1 area ({codes[-1]}), datasets from the mirror; {cpu['first_use_s']:.1f} s CPU",
        ),
        ("one area, warm caches", f"{one:.1f} s", f"1 area ({codes[0]}); {cpu['warm_one_area_s']:.1f} s CPU"),
        (
            "all areas from cold",
            f"{cold:.1f} s",
            f"{len(chosen)} areas, {cold / len(chosen):.2f} s/area; {cpu['all_cold_s']:.1f} s CPU",
        ),
        ("  worker time per area", f"{result['per_area_s']:.2f} s", f"{jobs} jobs x wall / areas; {phase_text}"),
        (
            "  compute-only floor",
            f"{result['compute_floor_s']} s",
            f"{codes[0]}'s measures and figures alone ({result['compute_floor_cpu_s']} s CPU)",
        ),
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
    print("targets:")
    for t in result["targets"].values():
        note = f" (projected from {t['projected_from_areas']} areas)" if "projected_from_areas" in t else ""
        print(f"  {'pass' if t['pass'] else 'FAIL'}  {t['what']}: {t['value']} (target {t['limit']}){note}")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


def _report_single_area(first: float, one: float, cpu: dict, peak: int, peak_pss: int, work: Path, codes, args) -> None:
    """Steps 0 and 1 only: print them, their targets and the JSON line."""
    result = {
        "first_use_s": round(first, 1),
        "warm_one_area_s": round(one, 1),
        "phases_first_use_s": read_phases(work / "first-use"),
        "phases_warm_one_s": read_phases(work / "one"),
        "peak_rss_mib": round(peak / 2**20),
        "peak_pss_mib": round(peak_pss / 2**20),
        "jobs": args.jobs or os.cpu_count() or 1,
        "cpu_s": {step: round(c, 1) for step, c in cpu.items()},
    }
    result["targets"] = {
        k: v for k, v in check_targets(result, 1, 1).items() if k in ("first_use_s", "warm_one_area_s")
    }
    print(f"mhbook build speed, one area ({os.cpu_count()} cores, chapters: {', '.join(args.only) or 'all'})")
    print(f"  first use, empty caches  {first:8.1f} s  {codes[-1]}; {cpu['first_use_s']:.1f} s CPU")
    print(f"  one area, warm caches    {one:8.1f} s  {codes[0]}; {cpu['warm_one_area_s']:.1f} s CPU")
    for t in result["targets"].values():
        print(f"  {'pass' if t['pass'] else 'FAIL'}  {t['what']}: {t['value']} (target {t['limit']})")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
