"""SYNTHETIC DfE statistical-neighbour workbooks (``dfe-stat-neighbours-2021``/``-2025`` layout).

Twelve made-up authorities on DfE codes 901..912, each listing as its ten neighbours the
next ten authorities in code order (wrapping round), nearest first: ranks 1-3 "Very
close", ranks 4-10 "close " (lower case with a space, which the parser tidies to "Close").

Names, as DfE would write them: 900 + n is Synthetic Unitary word(n) (E069000nn) for n =
1..10, except 903, which DfE calls "Harbourside" (ONS: "Harbourside, City of",
E06900003); 911 is "Durham", mapped by hand to E06000047; 912 is "Synthetic Shire (Pre
LG)", an abolished authority that no County & UA name matches.
In the 2021 model, 909 has "-" for its tenth neighbour (an authority created later).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .geography import word

CODES = list(range(901, 913))
NAMES = {
    **{900 + n: "Harbourside" if n == 3 else f"Synthetic Unitary {word(n)}" for n in range(1, 11)},
    911: "Durham",
    912: "Synthetic Shire (Pre LG)",
}


def neighbours_of(code: int) -> list[int]:
    i = CODES.index(code)
    return [CODES[(i + k) % len(CODES)] for k in range(1, 11)]


def _write(path: Path, model: str) -> None:
    header = ["LA num", "LA Name", "LA number", "GOInd", "GOReg"]
    for rank in range(1, 11):
        header += [f"SN{rank}", "SNP"]
    rows = [list("ABCDE") + [""] * (len(header) - 5), list(range(1, len(header) + 1)), header]
    for code in CODES:
        row = [code, NAMES[code], code, 1, "Synthetic Region 1"]
        for rank, other in enumerate(neighbours_of(code), start=1):
            gone = model == "2021" and code == 909 and rank == 10
            row += ["-" if gone else other, "Very close" if rank <= 3 else "close "]
        rows.append(row)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame(rows).to_excel(writer, sheet_name="LA SN Groups", header=False, index=False)
        pd.DataFrame({"note": ["SYNTHETIC test data made by tests/synthetic; not DfE's model"]}).to_excel(
            writer, sheet_name="SYNTHETIC", index=False
        )


def write_2021(path: Path) -> None:
    _write(path, "2021")


def write_2025(path: Path) -> None:
    _write(path, "2025")
