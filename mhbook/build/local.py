"""The authors' own words (``--local DIR``): boxed into an area's chapters.

``DIR/<area code>/<chapter>.md`` holds MyST text that goes, in a box titled
``LOCAL_TITLE``, into that chapter of that area's site just before its first ``##``
heading. The texts enter the site's key (``with_local``), not the notebooks': editing
them renders the site again without executing anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from mhbook import atomic
from mhbook.build.project import notebook_names, project_root
from mhbook.errors import LocalTextWarning, MhbookError, UsageError

#: The title of the box that holds an author's local text, on the page and in the documents.
LOCAL_TITLE = "Local context (added by the area’s authors)"  # the typographic apostrophe Sphinx prints
#: The box's HTML class (``admonition mhbook-local-text``).
LOCAL_CLASS = "mhbook-local-text"
#: Bumped when the way local text is placed changes, so every site with local text is made again.
_LOCAL_FORMAT = "1"


def local_folder(local: str | os.PathLike | None = None) -> Path | None:
    """The ``--local`` folder (else ``$MHBOOK_LOCAL``), absolute: a relative path is taken
    from the caller's working directory. None when neither is given."""
    raw = os.fspath(local) if local else os.environ.get("MHBOOK_LOCAL")
    if not raw:
        return None
    folder = Path(os.path.abspath(Path(raw).expanduser()))
    if not folder.is_dir():
        raise UsageError(
            f"--local {folder} does not exist or is not a folder: give the folder holding "
            "<area code>/<chapter>.md files (for example local/E08000004/summary.md)"
        )
    return folder


def read_local(folder: Path, root: Path | None = None) -> dict[str, dict[str, str]]:
    """Area code -> chapter -> the author's MyST text, from ``folder/<area code>/<chapter>.md``.

    Every file is checked, whichever areas are built: a folder that is not a County & UA code
    or a file that names no chapter stops the build with a message naming it (and the valid
    chapter names), before anything is written. Other files (not ``.md``) are ignored with a
    ``LocalTextWarning``; hidden files and empty ones are ignored.
    """
    import warnings

    from mhbook import areas as registry

    chapters = notebook_names(root or project_root())
    valid = ", ".join(f"{c}.md" for c in chapters)
    codes = {a.code for a in registry.all_areas()}
    texts: dict[str, dict[str, str]] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            raise UsageError(
                f"--local: {entry} is not in an area's folder: local text goes in "
                f"{folder}/<area code>/<chapter>.md (chapters: {valid})"
            )
        if entry.name not in codes:
            raise UsageError(
                f"--local: {entry} is not named by the code of a current County & UA"
                f"{_code_hint(registry, entry.name)}; name each folder by the area's code "
                "(`mhbook areas NAME` shows it)"
            )
        for path in sorted(entry.iterdir()):
            if path.name.startswith("."):
                continue
            if path.suffix != ".md" or not path.is_file():
                warnings.warn(
                    LocalTextWarning(
                        f"--local: {path} is ignored: only <chapter>.md files are read (chapters: {valid})"
                    ),
                    stacklevel=2,
                )
                continue
            if path.stem not in chapters:
                import difflib

                close = difflib.get_close_matches(path.stem, chapters, n=1)
                hint = f" (did you mean {close[0]}.md?)" if close else ""
                raise UsageError(
                    f"--local: {path} names no chapter of the book ({path.stem!r}){hint}; "
                    f"name each file by its chapter: {valid}"
                )
            try:
                text = _without_front_matter(path.read_text("utf-8")).strip()
            except UnicodeDecodeError as exc:
                raise UsageError(f"--local: {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
            if text:
                texts.setdefault(entry.name, {})[path.stem] = text
    return texts


def _code_hint(registry, name: str) -> str:
    try:
        area = registry.get(name)
    except MhbookError:
        return ""
    return f" ({name!r} is {area.name}, {area.code}: rename the folder to {area.code})"


def _without_front_matter(text: str) -> str:
    m = re.match(r"\A---[ \t]*\n.*?\n---[ \t]*\n", text, re.DOTALL)
    return text[m.end() :] if m else text


def with_local(key: str, texts: dict[str, str]) -> str:
    """``key`` extended with the area's local texts (unchanged when it has none)."""
    if not texts:
        return key
    local = json.dumps(texts, sort_keys=True)
    return hashlib.sha256(f"{key}|local={_LOCAL_FORMAT}:{local}".encode()).hexdigest()


_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_TARGET = re.compile(r"^\s*\([^()\s]+\)=\s*$")


def _outside_code(lines: list[str]):
    """(index, line) of the lines of MyST ``lines`` not inside a code block."""
    fence = None
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if fence is None:
            if m and not m.group(2).strip().startswith("{"):
                fence = m.group(1)
                continue
            yield i, line
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip():
            fence = None


def local_block(text: str) -> str:
    """The author's MyST ``text`` in a box titled ``LOCAL_TITLE``. Headings become rubrics
    (a section cannot start inside a box)."""
    lines = text.splitlines()
    for i, line in list(_outside_code(lines)):
        m = _HEADING.match(line)
        if m:
            lines[i] = f"```{{rubric}} {m.group(2)}\n```"
    body = "\n".join(lines)
    longest = max((len(m) for m in re.findall(r"^\s*(`{3,})", body, re.MULTILINE)), default=2)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{{admonition}} {LOCAL_TITLE}\n:class: {LOCAL_CLASS}\n\n{body}\n{fence}\n"


def insert_local(notebook: Path, text: str) -> None:
    """Put ``text`` (``local_block``) into the executed ``notebook`` just before its first
    ``##`` heading (after the chapter's opening section; at the end if it has none).

    The file is written anew and renamed over ``notebook``, never written through: in a
    staging folder it is a hard link to the stored output."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    where = len(nb.cells)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines(keepends=True)
        hit = next((j for j, line in _outside_code(lines) if line.startswith("## ")), None)
        if hit is None:
            continue
        while hit and _TARGET.match(lines[hit - 1]):  # a label stays with its heading
            hit -= 1
        where = i
        if hit:
            cell.source = "".join(lines[:hit])
            nb.cells.insert(i + 1, nbformat.v4.new_markdown_cell("".join(lines[hit:])))
            where = i + 1
        break
    nb.cells.insert(where, nbformat.v4.new_markdown_cell(local_block(text), metadata={"tags": [LOCAL_CLASS]}))
    atomic.write_file(notebook, lambda tmp: nbformat.write(nb, tmp))
