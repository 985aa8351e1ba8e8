"""The ``mhbook`` command line: output, exit codes, and one-line errors on stderr.

Happy paths run through typer's CliRunner; error paths through ``cli.main`` (which
owns the MhbookError -> exit 1 handling) and once through the installed script.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mhbook import catalogue, cli
from mhbook.fetch import cached_path

runner = CliRunner()
ALL = catalogue.datasets()


@pytest.fixture
def env(tmp_path, monkeypatch) -> Path:
    """A fresh cache; the mirror and download base are unset unless a test sets them."""
    monkeypatch.setenv("MHBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MHBOOK_MIRROR", raising=False)
    monkeypatch.delenv("MHBOOK_DOWNLOAD_BASE", raising=False)
    return tmp_path


def _run_main(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def _row(output: str, dataset_id: str) -> str:
    return next(line for line in output.splitlines() if f" {dataset_id} " in line)


def test_data_list_shows_every_dataset_uncached(env):
    result = runner.invoke(cli.app, ["data", "list"])
    assert result.exit_code == 0, result.output
    for ds in ALL.values():
        assert "no" in _row(result.stdout, ds.id).split("│")[-2]


def test_unknown_dataset_id_exits_1_with_one_line_on_stderr(env, capsys):
    code, out, err = _run_main(["data", "fetch", "iapt-anual"], capsys)
    assert code == 1
    assert err.startswith("mhbook: error: Unknown dataset id 'iapt-anual'.") and "iapt-annual" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_fetch_without_mirror_or_url_fails_with_advice(env, capsys):
    # bnd-lsoa-2011 is a merged file with url: null, so nothing is attempted over the network
    code, _, err = _run_main(["data", "fetch", "bnd-lsoa-2011"], capsys)
    assert code == 1
    assert "bnd-lsoa-2011" in err and "MHBOOK_MIRROR" in err and "Traceback" not in err


def test_usage_error_exits_2(env, capsys):
    code, _, err = _run_main(["data", "no-such-command"], capsys)
    assert code == 2 and "no-such-command" in err


def test_installed_script_reports_errors_without_traceback(env):
    script = shutil.which("mhbook", path=str(Path(sys.executable).parent))
    assert script, "the mhbook entry point is not installed in this environment"
    proc = subprocess.run([script, "data", "verify", "no-such-dataset"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Unknown dataset id 'no-such-dataset'" in proc.stderr and "Traceback" not in proc.stderr


def test_verify_reports_a_tampered_mirror_file(env, monkeypatch, capsys):
    # A SYNTHETIC mirror holding wrong bytes where ft-cmd-prevalence-16plus should be.
    ds = ALL["ft-cmd-prevalence-16plus"]
    bad = env / "mirror" / ds.file
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"synthetic, not the published file\n")
    monkeypatch.setenv("MHBOOK_MIRROR", str(env / "mirror"))
    code, out, err = _run_main(["data", "verify", ds.id], capsys)
    assert code == 1
    assert "FAILED" in _row(out, ds.id)
    assert hashlib.sha256(bad.read_bytes()).hexdigest()[:20] in out.replace("\n", "").replace("│", "").replace(" ", "")
    assert "1 of 1 dataset(s) failed verification" in err
    assert not cached_path(ds).exists()


@pytest.mark.mirror
def test_fetch_one_dataset_from_the_mirror_then_list_shows_it_cached(env, monkeypatch, mirror):
    monkeypatch.setenv("MHBOOK_MIRROR", str(mirror))
    result = runner.invoke(cli.app, ["data", "fetch", "ft-cmd-prevalence-16plus"])
    assert result.exit_code == 0, result.output
    assert (
        cached_path("ft-cmd-prevalence-16plus").read_bytes()
        == (mirror / ALL["ft-cmd-prevalence-16plus"].file).read_bytes()
    )
    listing = runner.invoke(cli.app, ["data", "list"]).stdout
    assert "yes" in _row(listing, "ft-cmd-prevalence-16plus").split("│")[-2]
    assert "no" in _row(listing, "iapt-annual").split("│")[-2]


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.mark.mirror
def test_fetch_downloads_through_a_download_base(env, monkeypatch, mirror):
    # The real mirror folder served over HTTP on 127.0.0.1, as a team's hosted mirror would be.
    handler = functools.partial(_QuietFiles, directory=str(mirror))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("MHBOOK_DOWNLOAD_BASE", f"http://127.0.0.1:{httpd.server_address[1]}")
        ids = ["ft-cmd-prevalence-16plus", "iapt-meta-variables"]
        result = runner.invoke(cli.app, ["data", "fetch", *ids])
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)
    assert result.exit_code == 0, result.output
    for dataset_id in ids:
        assert cached_path(dataset_id).read_bytes() == (mirror / ALL[dataset_id].file).read_bytes()


@pytest.mark.mirror
def test_verify_every_dataset_from_the_mirror(env, monkeypatch, mirror):
    monkeypatch.setenv("MHBOOK_MIRROR", str(mirror))
    result = runner.invoke(cli.app, ["data", "verify"])
    assert result.exit_code == 0, result.output
    for ds in ALL.values():
        assert "OK" in _row(result.stdout, ds.id)
    assert "FAILED" not in result.stdout
    assert f"all {len(ALL)} dataset(s) OK" in result.stdout


# --- areas (the registry in mhbook.areas reads lookups through fetch, so: mirror) ------


@pytest.fixture
def mirror_env(env, monkeypatch, mirror) -> None:
    monkeypatch.setenv("MHBOOK_MIRROR", str(mirror))


@pytest.mark.mirror
def test_areas_lists_every_county_and_ua(mirror_env):
    from mhbook import areas

    everything = areas.all_areas()
    result = runner.invoke(cli.app, ["areas"])
    assert result.exit_code == 0, result.output
    assert f"{len(everything)} areas" in result.stdout
    assert len(everything) == 153  # Counties & UAs in England, December 2023
    for area in everything:
        assert area.code in result.stdout


@pytest.mark.mirror
def test_areas_resolves_a_former_code_with_its_note(mirror_env):
    from mhbook import areas

    match = areas.find("E06000028")  # Bournemouth UA, abolished April 2019
    result = runner.invoke(cli.app, ["areas", "E06000028"])
    assert result.exit_code == 0, result.output
    assert "E06000058" in result.stdout
    assert match.note and match.note in result.stdout


@pytest.mark.mirror
def test_areas_unknown_query_exits_1_with_suggestions(mirror_env, capsys):
    from mhbook import areas
    from mhbook.errors import UnknownAreaError

    with pytest.raises(UnknownAreaError) as info:
        areas.find("Oldhum")
    code, _, err = _run_main(["areas", "Oldhum"], capsys)
    assert code == 1 and err.startswith("mhbook: error:") and "Traceback" not in err
    assert info.value.suggestions and all(s in err for s in info.value.suggestions)


def test_relative_mirror_and_cache_are_made_absolute_before_any_work(env, monkeypatch):
    # Notebooks run in other folders: a relative MHBOOK_MIRROR must reach them absolute.
    import os

    from mhbook import fetch

    mirror = env / "a-mirror"  # any folder will do: nothing is read from it
    mirror.mkdir()
    monkeypatch.chdir(Path(mirror).resolve().parent)
    monkeypatch.setenv("MHBOOK_MIRROR", Path(mirror).resolve().name)
    monkeypatch.setenv("MHBOOK_CACHE", "relative-cache")
    fetch.settle_locations()
    assert os.environ["MHBOOK_MIRROR"] == str(Path(mirror).resolve())
    assert os.environ["MHBOOK_CACHE"] == str(Path.cwd() / "relative-cache")


def test_missing_mirror_folder_is_one_clear_message(env, monkeypatch, capsys):
    monkeypatch.chdir(env)
    monkeypatch.setenv("MHBOOK_MIRROR", "../no-such-mirror")
    code, out, err = _run_main(["data", "fetch", "iapt-annual"], capsys)
    assert code == 1
    assert f"MHBOOK_MIRROR={env.parent / 'no-such-mirror'} does not exist" in err.replace("\n", "")
    assert "Traceback" not in err and err.count("mhbook: error") == 1


# --- the same commands on the SYNTHETIC mirror (tests/synthetic), so they run anywhere ---


@pytest.fixture
def synthetic_env(synthetic_mirror, monkeypatch, tmp_path) -> Path:
    """The synthetic catalogue and mirror, with an empty cache of this test's own."""
    monkeypatch.setenv("MHBOOK_CACHE", str(tmp_path / "cache"))
    return synthetic_mirror / "data"


def test_synthetic_fetch_copies_from_the_mirror_then_list_shows_it_cached(synthetic_env):
    ds = catalogue.get("mha-2023-24")
    assert ds.title.startswith("SYNTHETIC")
    result = runner.invoke(cli.app, ["data", "fetch", ds.id])
    assert result.exit_code == 0, result.output
    assert cached_path(ds.id).read_bytes() == (synthetic_env / ds.file).read_bytes()
    listing = runner.invoke(cli.app, ["data", "list"]).stdout
    assert "yes" in _row(listing, ds.id).split("│")[-2]
    assert "no" in _row(listing, "lkp-la-all-codes").split("│")[-2]
    assert " iapt-annual " not in listing  # the list is the catalogue in use


def test_synthetic_fetch_downloads_through_a_download_base(synthetic_env, monkeypatch):
    monkeypatch.delenv("MHBOOK_MIRROR")
    handler = functools.partial(_QuietFiles, directory=str(synthetic_env))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("MHBOOK_DOWNLOAD_BASE", f"http://127.0.0.1:{httpd.server_address[1]}")
        ids = ["ft-cmd-prevalence-16plus", "pop-lsoa11-mid2020"]
        result = runner.invoke(cli.app, ["data", "fetch", *ids])
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)
    assert result.exit_code == 0, result.output
    for dataset_id in ids:
        assert cached_path(dataset_id).read_bytes() == (synthetic_env / catalogue.get(dataset_id).file).read_bytes()


def test_synthetic_verify_checks_every_catalogued_file(synthetic_env):
    import synthetic

    result = runner.invoke(cli.app, ["data", "verify"])
    assert result.exit_code == 0, result.output
    for dataset_id in synthetic.FILES:
        assert "OK" in _row(result.stdout, dataset_id)
    assert f"all {len(synthetic.FILES)} dataset(s) OK" in result.stdout and "FAILED" not in result.stdout


def test_synthetic_areas_lists_every_county_and_ua(synthetic_env):
    result = runner.invoke(cli.app, ["areas"])
    assert result.exit_code == 0, result.output
    assert "153 areas" in result.stdout
    for code in ("E06900001", "E06900150", "E10900003"):
        assert code in result.stdout


def test_synthetic_areas_resolves_a_former_code_with_its_note(synthetic_env):
    result = runner.invoke(cli.app, ["areas", "E06900201"])  # a former synthetic unitary, now in E06900001
    assert result.exit_code == 0, result.output
    assert "E06900001" in result.stdout and "former County & UA code" in " ".join(result.stdout.split())


def test_synthetic_areas_unknown_query_exits_1_with_suggestions(synthetic_env, capsys):
    code, _, err = _run_main(["areas", "Harboursid"], capsys)
    assert code == 1 and err.startswith("mhbook: error:") and "Traceback" not in err
    assert "Harbourside, City of (E06900003)" in err
