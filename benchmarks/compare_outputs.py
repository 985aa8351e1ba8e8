"""Check that two builds of the same areas hold the same numbers: glued values and CSVs.

    python benchmarks/compare_outputs.py BEFORE AFTER [AREA ...] [--executed-only]

BEFORE and AFTER are ``--out`` folders of ``mhbook build``. For each area (default: every
area site in BEFORE) it compares

- every glued value (``report.glue_all``, scrapbook outputs) of every executed notebook
  in the build store, by name, as the text the page shows;
- every CSV file the notebooks wrote (figures and tables, in the build store) and every
  CSV of the site (the same downloads and the data pack's tidy CSV), byte for byte.

``--executed-only`` compares only the notebooks AFTER has executed so far (and no site
files): a check that can run while AFTER's build is still going.

A speed change must leave both unchanged. Prints what differs and exits 1 if anything
does, else prints the counts compared and exits 0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _notebooks(out: Path, area: str, only: set[str] | None) -> list[Path]:
    """The area's stored notebook folders (those named in ``only``, if given)."""
    folders = sorted(p for p in (out / ".mhbook-build" / "outputs" / area).glob("*") if p.is_dir())
    return [p for p in folders if only is None or p.name in only]


def glued(out: Path, area: str, only: set[str] | None = None) -> dict[str, object]:
    """``notebook:name`` -> glued value (its mime bundle) for the area's stored notebooks."""
    values = {}
    for path in (nb / f"{nb.name}.ipynb" for nb in _notebooks(out, area, only)):
        nb = json.loads(path.read_text("utf-8"))
        for cell in nb.get("cells", []):
            for output in cell.get("outputs", []):
                name = output.get("metadata", {}).get("scrapbook", {}).get("name")
                if name:
                    values[f"{path.stem}:{name}"] = output.get("data")
    return values


def csvs(out: Path, area: str, only: set[str] | None = None) -> dict[str, bytes]:
    """Relative path -> bytes of every CSV the area's stored notebooks wrote and, unless
    ``only`` limits the notebooks, of every CSV in its site."""
    found = {}
    for nb in _notebooks(out, area, only):
        found.update({f"store/{p.relative_to(nb.parent)}": p.read_bytes() for p in sorted(nb.rglob("*.csv"))})
    if only is None:
        site = out / area
        found.update({f"site/{p.relative_to(site)}": p.read_bytes() for p in sorted(site.rglob("*.csv"))})
    return found


def compare(before: Path, after: Path, areas: list[str], executed_only: bool = False) -> list[str]:
    """Lines describing every difference (empty when the builds agree)."""
    problems = []
    for area in areas:
        only = {p.name for p in _notebooks(after, area, None)} if executed_only else None
        print(f"{area}: notebooks compared: {', '.join(sorted(only)) if only is not None else 'all'}")
        for what, read in (("glued value", glued), ("CSV", csvs)):
            a, b = read(before, area, only), read(after, area, only)
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
    args = [a for a in sys.argv[1:] if a != "--executed-only"]
    if len(args) < 2:
        sys.exit(__doc__)
    before, after = Path(args[0]), Path(args[1])
    areas = args[2:] or sorted(p.name for p in before.iterdir() if p.is_dir() and p.name.startswith("E"))
    problems = compare(before, after, areas, executed_only="--executed-only" in sys.argv)
    for line in problems:
        print(line)
    print("identical" if not problems else f"{len(problems)} difference(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
