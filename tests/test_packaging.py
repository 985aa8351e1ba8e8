"""pyproject.toml and environment.yml install the same packages at the same minimum versions."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).parents[1]


def _pyproject() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    reqs = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return {Requirement(r).name.lower(): str(Requirement(r).specifier) for r in reqs}


def _environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text("utf-8"))
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            req = Requirement(dep)
            if req.name not in ("python", "pip"):  # the interpreter and installer themselves
                out[req.name.lower()] = str(req.specifier)
        else:  # pip's list: packages conda-forge lacks, and the project itself
            for line in dep.get("pip", []):
                if not line.startswith("-"):
                    req = Requirement(line.split("#")[0].strip())
                    out[req.name.lower()] = str(req.specifier)
    return out


def test_the_two_dependency_lists_agree():
    pyproject, environment = _pyproject(), _environment()
    assert set(pyproject) == set(environment), (
        f"only in pyproject.toml: {sorted(set(pyproject) - set(environment))}; "
        f"only in environment.yml: {sorted(set(environment) - set(pyproject))}"
    )
    differing = {k: (pyproject[k], environment[k]) for k in pyproject if pyproject[k] != environment[k]}
    assert not differing, f"versions differ (pyproject, environment): {differing}"
