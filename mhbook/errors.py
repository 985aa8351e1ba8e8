"""Typed errors raised by mhbook. Each message says what failed, where, and what to do."""


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


class RefreshError(MhbookError):
    """A data refresh failed (a download, a check or a parser); nothing was pinned."""
