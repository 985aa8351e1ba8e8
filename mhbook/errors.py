"""Every error and warning class of mhbook, in one place.

Each message says what failed, where (the file, area, option or column), and what to do.
Errors raised on purpose derive from ``MhbookError``; the command line prints them as one
``mhbook: error:`` line. Warnings are specific classes, never a bare ``UserWarning``.
"""

import signal


class MhbookError(Exception):
    """Base class for every error mhbook raises on purpose."""


class UnknownDatasetError(MhbookError, KeyError):
    """A dataset id that is not in the catalogue."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataIntegrityError(MhbookError):
    """A file whose bytes are not the ones the catalogue pins (sha256 mismatch)."""


class FetchError(MhbookError):
    """A dataset could not be obtained: not in the mirror and the download failed."""


class SchemaError(MhbookError):
    """A loaded table does not have the columns, types or rows the catalogue expects."""


class UnknownAreaError(MhbookError, LookupError):
    """An area code or name that does not resolve to a County & UA."""

    def __init__(self, message: str, suggestions: list[str] | None = None):
        super().__init__(message)
        self.suggestions = suggestions or []


class InsufficientDataError(MhbookError):
    """The data cannot support the requested statistic or comparison."""


class UsageError(MhbookError):
    """A command-line option or argument that cannot work (exit status 2)."""


class OutputError(MhbookError):
    """A file or folder mhbook must write cannot be written (read-only, full, or not a folder)."""


class BuildLockedError(OutputError):
    """Another ``mhbook build`` holds the output folder's lock."""


class UnmappedOrganisationError(MhbookError, LookupError):
    """An NHS organisation code in a published file that the year's lookup does not hold."""


class StatsInputError(MhbookError, ValueError):
    """Input that no statistic can be computed from; the message names field and row."""


class SiteError(MhbookError):
    """An area's built site is missing or does not have the pages an export needs."""


class ConverterError(MhbookError):
    """The program that writes a document format is missing or failed."""


class BrowserError(MhbookError):
    """Chromium could not be started, stopped answering or refused a command."""


class RefreshError(MhbookError):
    """A data refresh failed (a download, a check or a parser); nothing was pinned."""


# --- The build ------------------------------------------------------------------------------


class BookError(MhbookError):
    """Sphinx (Jupyter Book) failed to render an area's site, or its documents could not be made."""


class WorkerLostError(MhbookError):
    """A worker process died mid-build (killed, out of memory, or a crash in native code)."""


class WorkerMismatchError(MhbookError):
    """A long-lived worker (Dask) has imported another mhbook or catalogue than the build's."""


class CellError(Exception):
    """A notebook cell raised: ``count`` is its execution count, ``ename``/``evalue`` the exception.

    Not an ``MhbookError``: it carries a page's own failure into the build's failure table.
    """

    def __init__(self, count: int, ename: str, evalue: str):
        super().__init__(f"cell {count}: {ename}: {evalue}".strip())
        self.count, self.ename, self.evalue = count, ename, evalue


class CellTimeout(Exception):
    """A notebook cell ran longer than the time allowed (recorded as that cell's error)."""


class BuildInterrupted(BaseException):
    """SIGTERM or SIGINT stopped the build; workers and staging folders are gone, finished sites stay.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that no ``except Exception`` swallows it.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return 128 + self.signum  # 143 for SIGTERM, 130 for SIGINT, as a shell reports them

    def __str__(self) -> str:
        name = signal.Signals(self.signum).name
        return (
            f"interrupted ({name}): the sites finished so far are in place and nothing half-built was left; "
            "run the same command again to resume"
        )


# --- Warnings -------------------------------------------------------------------------------


class SuppressedInputWarning(UserWarning):
    """Some inputs were missing (suppressed); their outputs are missing too."""


class ManyQuantilesWarning(UserWarning):
    """More than 10 quantiles: small quantile populations can make the SII unstable."""


class MhaLabelWarning(UserWarning):
    """A damaged Mental Health Act breakdown label could not be repaired with certainty; the row was dropped."""


class LocalTextWarning(UserWarning):
    """A file in the ``--local`` folder that is not read (not ``<area code>/<chapter>.md``)."""
