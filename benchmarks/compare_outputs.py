"""Check that two builds of the same areas hold the same numbers: glued values and CSVs.

    python benchmarks/compare_outputs.py BEFORE AFTER [AREA ...]

BEFORE and AFTER are ``--out`` folders of ``mhbook build``. For each area (default: every
area site in BEFORE) it compares

- every glued value (``report.glue_all``, scrapbook outputs) of every executed notebook
  in the build store, by name, as the text the page shows;
- every CSV file of the site (figure and table downloads, the data pack's tidy CSV),
  byte for byte.

A speed change must leave both unchanged. Prints what differs and exits 1 if anything
does, else prints the counts compared and exits 0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def glued(out: Path, area: str) -> dict[str, object]:
    """``notebook:name`` -> glued value (its mime bundle) for the area's stored notebooks."""
    values = {}
    for path in sorted((out / ".mhbook-build" / "outputs" / area).glob("*/*.ipynb")):
        nb = json.loads(path.read_text("utf-8"))
        for cell in nb.get("cells", []):
            for output in cell.get("outputs", []):
                name = output.get("metadata", {}).get("scrapbook", {}).get("name")
                if name:
                    values[f"{path.stem}:{name}"] = output.get("data")
    return values


def csvs(out: Path, area: str) -> dict[str, bytes]:
    """Relative path -> bytes of every CSV in the area's site."""
    site = out / area
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*.csv"))}


def compare(before: Path, after: Path, areas: list[str]) -> list[str]:
    """Lines describing every difference (empty when the builds agree)."""
    problems = []
    for area in areas:
        for what, read in (("glued value", glued), ("CSV", csvs)):
            a, b = read(before, area), read(after, area)
            if not a:
                problems.append(f"{area}: no {what}s in {before}: build the area there first")
            for name in sorted(set(a) | set(b)):
                if name not in b:
                    problems.append(f"{area}: {what} {name} only in {before}")
                elif name not in a:
                    problems.append(f"{area}: {what} {name} only in {after}")
                elif a[name] != b[name]:
                    problems.append(f"{area}: {what} {name} differs")
            print(f"{area}: {len(a)} {what}s compared")
    return problems


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    before, after = Path(sys.argv[1]), Path(sys.argv[2])
    areas = sys.argv[3:] or sorted(p.name for p in before.iterdir() if p.is_dir() and p.name.startswith("E"))
    problems = compare(before, after, areas)
    for line in problems:
        print(line)
    print("identical" if not problems else f"{len(problems)} difference(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
