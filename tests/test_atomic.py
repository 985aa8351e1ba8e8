"""Files written whole or not at all (``mhbook.atomic``)."""

from __future__ import annotations

import json
import stat

import pytest

from mhbook import atomic


def test_a_new_file_and_its_folders_are_written_readable(tmp_path):
    path = tmp_path / "a" / "b" / "page.json"
    assert atomic.write_json(path, {"x": 1}, indent=1) == path
    assert json.loads(path.read_text("utf-8")) == {"x": 1}
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["page.json"]  # no temporary file left


def test_a_failed_write_keeps_the_old_file_and_leaves_no_part(tmp_path):
    path = tmp_path / "table.csv"
    atomic.write_text(path, "old\n")

    def half(tmp):
        tmp.write_text("half a ta", "utf-8")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic.write_file(path, half)
    assert path.read_text("utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_an_interrupt_also_leaves_no_part(tmp_path):
    path = tmp_path / "doc.pdf"

    def interrupted(tmp):
        tmp.write_bytes(b"%PDF-1.7 ...")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic.write_file(path, interrupted, sync=True)
    assert list(tmp_path.iterdir()) == []


def test_bytes_replace_the_old_content(tmp_path):
    path = tmp_path / "x.bin"
    atomic.write_bytes(path, b"one")
    atomic.write_bytes(path, b"two")
    assert path.read_bytes() == b"two"
