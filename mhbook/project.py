"""Where the book's sources and mhbook's writable files are, in a checkout or an installed package.

The book's sources are the chapter notebooks (``notebooks/``), the pages copied into
every book (``book/``) and Jupyter Book's ``_config.yml`` and ``_toc.yml``. They are kept
at the top of the project; a wheel carries a copy of them in ``mhbook/_project/``
(made by ``setup.py`` when the wheel is built). ``root()`` finds them:

1. ``$MHBOOK_PROJECT``, a folder holding them (a checkout), when set;
2. the checkout this package is imported from (an editable install, or ``PYTHONPATH``);
3. the copy inside the installed package.

Installed packages are never written to. Files a user's commands change live elsewhere:
``pins_file()`` is the SHA256SUMS-style registry in which ``mhbook data refresh``
records re-pinned dataset hashes (``mhbook.catalogue`` reads it over the packaged pins):
``$MHBOOK_HOME/SHA256SUMS`` when ``MHBOOK_HOME`` is set, else ``data/SHA256SUMS`` of a
checkout (commit it with the refresh), else ``SHA256SUMS`` in the user data folder
(``platformdirs``, e.g. ``~/.local/share/mhbook``).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from mhbook.errors import UsageError

#: What a folder must hold to be the book's sources.
SOURCES = ("notebooks", "book", "_config.yml", "_toc.yml")
_PACKAGE = Path(__file__).resolve().parent
#: The copy of the sources inside a built wheel.
PACKAGED = _PACKAGE / "_project"


def _complete(folder: Path) -> bool:
    return all((folder / name).exists() for name in SOURCES)


def checkout() -> Path | None:
    """The project checkout in use (``$MHBOOK_PROJECT`` or the one holding this package), or None."""
    named = os.environ.get("MHBOOK_PROJECT")
    if named:
        folder = Path(named).expanduser().resolve()
        missing = [n for n in SOURCES if not (folder / n).exists()]
        if missing:
            raise UsageError(
                f"MHBOOK_PROJECT={named}: {', '.join(missing)} missing there. Point it at a clone of the "
                f"project, or unset it to use the book sources installed with mhbook."
            )
        return folder
    parent = _PACKAGE.parent
    if (parent / "pyproject.toml").exists() and _complete(parent):
        return parent
    return None


def root() -> Path:
    """The folder holding ``notebooks/``, ``book/``, ``_config.yml`` and ``_toc.yml``."""
    found = checkout()
    if found is not None:
        return found
    if _complete(PACKAGED):
        return PACKAGED
    raise UsageError(
        f"mhbook cannot find its book sources ({', '.join(SOURCES)}): neither a project checkout nor "
        f"{PACKAGED} holds them. Reinstall mhbook from a wheel or `pip install .`, or set MHBOOK_PROJECT "
        f"to a clone of the project."
    )


def home() -> Path | None:
    """``$MHBOOK_HOME`` as an absolute path, or None when unset."""
    raw = os.environ.get("MHBOOK_HOME")
    return Path(raw).expanduser().resolve() if raw else None


def pins_file() -> Path:
    """The registry of re-pinned dataset hashes (see the module docstring); it may not exist yet."""
    named = home()
    if named is not None:
        return named / "SHA256SUMS"
    found = checkout()
    if found is not None:
        return found / "data" / "SHA256SUMS"
    return Path(platformdirs.user_data_dir("mhbook")) / "SHA256SUMS"
