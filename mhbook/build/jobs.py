"""What passes between the coordinating process and the build workers (all picklable).

An ``AreaJob`` says what one area needs; a worker answers with an ``AreaOutcome``
(what it executed, what failed, how long each phase took, and the site it staged for
the coordinating process to finish, a ``StagedSite``).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field

from mhbook.build.reasons import Reason

#: The phases whose seconds an area's outcome reports: executing notebooks, rendering the
#: site with Sphinx, writing its documents (Word, data pack, board brief, printing PDFs).
PHASES = ("execute", "render", "documents")


@dataclass
class Failure:
    """One notebook (or the book step) that failed for one area."""

    area: str
    notebook: str
    error: str


@dataclass
class AreaJob:
    """Everything a worker needs to bring one area's site up to date."""

    area_code: str
    area_name: str
    out: str
    root: str
    notebooks: list[str]
    execute: dict[str, Reason]  # notebook -> why it runs
    code: str
    catalogue: str
    build_site: bool = True
    build_pid: int = 0  # the coordinating process: names its staging folders, so a dead build's are known
    local: dict[str, str] = field(default_factory=dict)  # chapter -> the author's MyST text (--local)


@dataclass
class StagedSite:
    """An area's site rendered by Sphinx in a staging folder, waiting for its documents."""

    area_code: str
    staging: str  # removed once the site is in place (or has failed)
    key: str
    print_page: str | None  # the PDF's print page, when a PDF is still to be printed


@dataclass
class AreaOutcome:
    """What a worker did for one area. ``seconds`` holds wall-clock seconds per phase (``PHASES``)."""

    area_code: str
    executed: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # stored outputs that could not be read, executed again
    failures: list[Failure] = field(default_factory=list)
    site: str | None = None
    staged: StagedSite | None = None
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))


def os_failure(exc: OSError) -> str:
    """An OS error met while building an area, as a line of the failure table."""
    where = exc.filename or "the output folder"
    what = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        return (
            f"{where}: {what}: the disk is full; the area's previous site is unchanged. Free some space "
            "and run the same command again to resume"
        )
    return f"{where}: {what} ({type(exc).__name__}); the area's previous site is unchanged"
