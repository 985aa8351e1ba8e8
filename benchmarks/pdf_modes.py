"""Print PDFs with Chromium in its usual multi-process mode and with ``--single-process``.

    python benchmarks/pdf_modes.py OUT [AREA ...] [--rounds 3]

OUT is the ``--out`` folder of a build holding the AREAs' sites (default: every area site
in it). Each area's print page is written again from its site (``mhbook.export``), then
each mode gets a browser of its own (``mhbook.export.browser.Browser``) that prints every
page ``--rounds`` times in turn. Measured per mode: wall seconds per document, CPU seconds
per document of Chromium's whole process tree (its helpers included, also those that
ended), peak summed resident memory of the tree (sampled every 0.1 s), and how many
prints failed or stalled (``PRINT_TIMEOUT_S``). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import psutil


def _tree_cpu(chrome: psutil.Process) -> float:
    """CPU seconds of Chromium's process tree so far: its processes still running and the
    helpers they have ended (a zygote ends the renderers)."""
    cpu = 0.0
    for p in [chrome, *chrome.children(recursive=True)]:
        try:
            c = p.cpu_times()
            cpu += c.user + c.system + c.children_user + c.children_system
        except psutil.Error:
            pass
    return cpu


def print_pages(pages: list[Path], rounds: int, flags: tuple[str, ...]) -> dict:
    """Print every page ``rounds`` times with one browser started with ``flags``."""
    from mhbook.export import browser, pdf

    saved = browser.FLAGS
    browser.FLAGS = flags
    try:
        started = time.perf_counter()
        b = browser.Browser(pdf.CHROMIUM)
    finally:
        browser.FLAGS = saved
    launch_s = time.perf_counter() - started
    chrome = psutil.Process(b._proc.pid)
    peak, stop = [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                total = sum(p.memory_info().rss for p in [chrome, *chrome.children(recursive=True)])
                peak[0] = max(peak[0], total)
            except psutil.Error:
                pass
            time.sleep(0.1)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    failures, times, cpu = [], [], 0.0
    for _ in range(rounds):
        for page in pages:
            t = time.perf_counter()
            try:
                data = b.print_pdf(page, pdf.PRINT_TIMEOUT_S)
                if not data.startswith(b"%PDF"):
                    failures.append(f"{page.parent.name}: not a PDF")
            except browser.BrowserError as exc:
                failures.append(f"{page.parent.name}: {exc}")
                cpu += _tree_cpu(chrome)  # counted before this browser goes
                b.close()
                b = browser.Browser(pdf.CHROMIUM)
                chrome = psutil.Process(b._proc.pid)
            times.append(time.perf_counter() - t)
    cpu += _tree_cpu(chrome)
    stop.set()
    watcher.join()
    b.close()
    return {
        "documents": len(times),
        "launch_s": round(launch_s, 2),
        "wall_s_per_document": round(sum(times) / len(times), 2),
        "slowest_s": round(max(times), 2),
        "cpu_s_per_document": round(cpu / len(times), 2),
        "peak_rss_mib": round(peak[0] / 2**20),
        "failures": failures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("areas", nargs="*")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from mhbook import areas, export
    from mhbook.export import browser, pdf

    codes = args.areas or sorted(p.name for p in args.out.iterdir() if p.is_dir() and p.name.startswith("E"))
    with tempfile.TemporaryDirectory(prefix="mhbook-pdfmodes-") as tmp:
        pages = []
        for code in codes:
            page = Path(tmp) / code / "print.html"
            page.parent.mkdir()
            page.write_text(pdf.to_html(export.read_site(args.out / code, areas.get(code))), "utf-8")
            pages.append(page)
        single = browser.FLAGS
        multi = tuple(f for f in single if f not in ("--single-process", "--no-zygote"))
        result = {"areas": codes, "rounds": args.rounds}
        for name, flags in (
            ("single_process", single),
            ("multi_process", multi),
            ("single_process_again", single),
            ("multi_process_again", multi),
        ):
            result[name] = print_pages(pages, args.rounds, flags)
            print(name, json.dumps(result[name]), flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
