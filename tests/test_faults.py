"""The fault suite: each fault is injected and must end in a clear message, not a traceback.

Every case asserts the exit status, one ``mhbook: error:`` line naming the file, option or
area at fault (and no traceback), and the state on disk afterwards: the previous site,
document or cache intact, no temporary or staging leftovers, no process left running.

The fixtures are synthetic (made here, and said to be): tiny documents, fake Parquet
files, a fake area, fake datasets in a throw-away catalogue. Faults the machine cannot
produce on demand (a full disk, a read-only file system) are injected by monkeypatching
the call that would fail with the ``OSError`` the kernel gives. Only the process-kill
cases run a real (synthetic-notebook) build; they need the mirror for the area registry
and are marked ``mirror`` like the other build tests.
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest

from mhbook import cli, export
from mhbook.areas import Area

#: A synthetic area (the registry is not read): the export and CLI cases need only its code and name.
FAKE_AREA = Area("E06000001", "Synthetic Town", "E12000001", "Synthetic Region", (("E06000001", "Synthetic Town"),))


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run ``mhbook ARGS`` in this process: (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as stopped:
        cli.main(args)
    captured = capsys.readouterr()
    code = stopped.value.code
    return (0 if code is None else int(code)), captured.out, captured.err


def assert_clear_error(stderr: str, *names: str) -> None:
    """One ``mhbook: error:`` line, naming each of ``names``; no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("mhbook: error:")]
    assert lines, stderr
    for name in names:
        assert name in stderr, (name, stderr)


def leftovers(folder: Path) -> list[Path]:
    """Hidden temporary files and staging folders anywhere under ``folder``."""
    return [p for p in folder.rglob("*") if p.name.startswith((".staging-", ".old-")) or ".part" in p.name
            or p.name.endswith(".tmp")]


# --- 1. documents are written atomically ------------------------------------------------


@pytest.fixture
def old_document(tmp_path, monkeypatch) -> Path:
    """A synthetic site with a synthetic (old) Word document; reading the site is faked."""
    site = tmp_path / "site" / FAKE_AREA.code
    path = export.download_path(site, "docx")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK synthetic old document")
    monkeypatch.setattr(export, "read_site", lambda site, area: object())
    from mhbook import areas

    monkeypatch.setattr(areas, "get", lambda query: FAKE_AREA)
    return path


def test_export_interrupted_mid_write_keeps_the_old_document(old_document, monkeypatch):
    def killed_half_way(document, path):
        Path(path).write_bytes(b"PK half")
        raise KeyboardInterrupt  # as a SIGINT or a killed writer would stop it

    monkeypatch.setitem(export.WRITERS, "docx", killed_half_way)
    with pytest.raises(KeyboardInterrupt):
        export.export_area(FAKE_AREA, old_document.parents[2], "docx")
    assert old_document.read_bytes() == b"PK synthetic old document"
    assert not leftovers(old_document.parents[2])


def test_export_writes_the_new_document_whole(old_document, monkeypatch):
    monkeypatch.setitem(export.WRITERS, "docx", lambda document, path: Path(path).write_bytes(b"PK new") and path)
    assert export.export_area(FAKE_AREA, old_document.parents[2], "docx") == old_document
    assert old_document.read_bytes() == b"PK new"
    assert not leftovers(old_document.parents[2])


def test_export_to_a_folder_is_a_message(old_document, tmp_path, capsys):
    folder = tmp_path / "papers"
    folder.mkdir()
    code, _, stderr = run_cli(["export", FAKE_AREA.code, "--format", "docx", "--out", str(tmp_path / "site"),
                               "--to", str(folder)], capsys)
    assert code in (1, 2)
    assert_clear_error(stderr, str(folder), "--to")
    assert list(folder.iterdir()) == []


def test_export_to_a_full_device_is_a_message_and_keeps_the_old_document(old_document, tmp_path, capsys,
                                                                          monkeypatch):
    def full(document, path):
        Path(path).write_bytes(b"PK part")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setitem(export.WRITERS, "docx", full)
    code, _, stderr = run_cli(["export", FAKE_AREA.code, "--format", "docx", "--out", str(tmp_path / "site")],
                              capsys)
    assert code == 1
    assert_clear_error(stderr, str(old_document), "space")
    assert old_document.read_bytes() == b"PK synthetic old document"
    assert not leftovers(tmp_path)
