"""pyproject.toml and environment.yml name the same packages with the same version ranges."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

PROJECT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict:
    return tomllib.loads((PROJECT / "pyproject.toml").read_text())


def _environment() -> dict:
    return yaml.safe_load((PROJECT / "environment.yml").read_text())


def _by_name(reqs: list[str], where: str) -> dict[str, SpecifierSet]:
    out: dict[str, SpecifierSet] = {}
    for text in reqs:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        assert name not in out, f"{where}: {req.name} listed twice"
        assert not req.marker and not req.url, f"{where}: {text!r} (markers/URLs cannot be mirrored in conda)"
        out[name] = req.specifier
    return out


def _pip_section(env: dict) -> list[str]:
    pips = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pips) == 1, "environment.yml needs exactly one `pip:` list"
    return pips[0]


def test_pyproject_and_environment_list_the_same_requirements():
    project = _pyproject()["project"]
    py = _by_name(project["dependencies"] + project["optional-dependencies"]["dev"], "pyproject.toml")
    env = _by_name(_pip_section(_environment()), "environment.yml (pip)")
    assert sorted(set(py) - set(env)) == [], "in pyproject.toml but not environment.yml"
    assert sorted(set(env) - set(py)) == [], "in environment.yml but not pyproject.toml"
    differ = {n: (str(py[n]), str(env[n])) for n in py if py[n] != env[n]}
    assert differ == {}, "version ranges differ (pyproject, environment.yml)"


def test_every_requirement_is_bounded_both_ways():
    project = _pyproject()["project"]
    for text in project["dependencies"] + project["optional-dependencies"]["dev"]:
        ops = {s.operator for s in Requirement(text).specifier}
        assert ops & {">=", ">", "==", "~="}, f"{text}: no lower bound"
        assert ops & {"<", "<=", "==", "~="}, f"{text}: no upper bound"


def test_conda_python_satisfies_requires_python():
    requires = SpecifierSet(_pyproject()["project"]["requires-python"])
    pythons = [d for d in _environment()["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert len(pythons) == 1, pythons
    version = pythons[0].split("=", 1)[1].lstrip("=")
    assert Version(version) in requires, f"environment.yml python={version} vs requires-python {requires}"


def test_environment_lists_no_conda_package_twice_with_pip():
    env = _environment()
    conda = {canonicalize_name(Requirement(d.split("=")[0]).name)
             for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    pip = set(_by_name(_pip_section(env), "environment.yml (pip)"))
    assert conda & pip == set()


def test_console_script_points_into_the_package():
    scripts = _pyproject()["project"]["scripts"]
    module, func = scripts["fer"].split(":")
    assert module.startswith("fer_helpers.")
    path = PROJECT / (module.replace(".", "/") + ".py")
    if not path.is_file():
        pytest.skip(f"{path.relative_to(PROJECT)} not written yet")
    assert f"def {func}(" in path.read_text()


def test_the_fer_command_help_is_plain_text():
    """``fer --help`` and every subcommand's help are read in a terminal: the docstrings' markup
    (double backticks) must not reach them."""
    import argparse

    from fer_helpers.cli import build_parser

    def helps(parser: argparse.ArgumentParser):
        yield parser.format_help()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    yield from helps(sub)

    texts = list(helps(build_parser()))
    assert len(texts) > 9  # the command and each of its subcommands
    for text in texts:
        assert "``" not in text, text.splitlines()[0]
