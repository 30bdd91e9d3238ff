"""The package as it is installed: bundled files found through the package, a licence,
metadata the build tools accept, and a source distribution that carries its tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from ioc_sim.cli.main import main
from ioc_sim.errors import ConfigError
from ioc_sim.experiments import scenarios as scenarios_module
from ioc_sim.experiments import spec as experiment_spec

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _names(folder) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name.endswith(".toml")}


@pytest.mark.parametrize(
    ("inside", "top_level"),
    [
        (("scenarios",), ("scenarios",)),
        (("experiments",), ("experiments",)),
        (("experiments", "theories"), ("experiments", "theories")),
    ],
)
def test_the_package_holds_the_user_facing_folders(inside, top_level):
    # In a checkout the package's folders link to the top-level ones, so there is one copy.
    packaged = resources.files("ioc_sim").joinpath("data", *inside)
    assert _names(packaged) == _names(ROOT.joinpath(*top_level))
    assert _names(packaged), "nothing bundled"


def test_the_wheel_takes_every_bundled_folder():
    patterns = set(PYPROJECT["tool"]["setuptools"]["package-data"]["ioc_sim"])
    assert {
        "data/scenarios/*.toml",
        "data/experiments/*.toml",
        "data/experiments/theories/*.toml",
    } <= patterns


def test_licence_file_and_spdx_expression():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT"  # an SPDX expression, not the deprecated table
    assert project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_the_source_distribution_carries_what_its_tests_read():
    manifest = (ROOT / "MANIFEST.in").read_text(encoding="utf-8").split("\n")
    for line in ("graft tests", "graft scenarios", "graft experiments", "graft docs"):
        assert line in manifest
    assert (ROOT / "tests" / "golden").is_dir()


def test_scenarios_command_refuses_an_empty_list(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(scenarios_module, "scenario_dir", lambda: tmp_path)
    assert main(["scenarios"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ioc-sim: error: no bundled scenarios in ")
    assert "incomplete" in err


def test_experiment_list_refuses_an_empty_list(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(experiment_spec, "experiment_dir", lambda: tmp_path)
    assert main(["experiment", "list"]) == 2
    assert "no bundled experiments in " in capsys.readouterr().err


def test_a_file_given_by_path_loads_even_when_the_bundled_folder_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(scenarios_module, "scenario_dir", lambda: tmp_path / "gone")
    assert scenarios_module.load_scenario(ROOT / "scenarios" / "merger.toml").name == "merger"
    with pytest.raises(ConfigError, match="nosuch: no such scenario file; no bundled scenarios"):
        scenarios_module.load_scenario("nosuch")


def test_an_installed_copy_finds_its_files_from_any_folder(tmp_path):
    """The package alone (as a wheel installs it), run from an empty folder."""
    site = tmp_path / "site"
    shutil.copytree(
        ROOT / "ioc_sim",
        site / "ioc_sim",
        symlinks=False,  # the links become the copies a wheel carries
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
    listed = subprocess.run(
        [sys.executable, "-m", "ioc_sim", "scenarios"],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
    )
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert names == sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
    code = (
        "from ioc_sim import load_experiment, load_scenario\n"
        "from ioc_sim.theory import load_theory\n"
        "import ioc_sim\n"
        "exp = load_experiment('compare_forms')\n"  # names scenarios, found by name
        "print(load_scenario('merger').path)\n"
        "print(load_theory().path)\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], cwd=empty, env=env, capture_output=True, text=True
    )
    assert found.returncode == 0, found.stderr
    for line in found.stdout.splitlines():
        assert Path(line).is_relative_to(site), line


def test_scheduler_without_the_cluster_extra_says_what_to_install(tmp_path, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "distributed" else real(name, *a),
    )
    out = tmp_path / "out"
    code = main(["experiment", "run", "compare_forms", "--scheduler", "local:2", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("ioc-sim: error: scheduler: running on a Dask cluster needs the cluster")
    assert 'python -m pip install "ioc_sim[cluster]"' in err
    assert not out.exists()


def test_the_extras_say_why_and_the_tests_install_them():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert any(r.startswith("dask[distributed]") for r in extras["cluster"])
    assert not any("distributed" in r for r in PYPROJECT["project"]["dependencies"])
    assert "ioc_sim[app,cluster,calibrate]" in extras["test"]
    # pyabc only for calibrating: running over a posterior needs nothing more
    assert any(r.startswith("pyabc") for r in extras["calibrate"])
    assert not any(r.startswith("pyabc") for r in PYPROJECT["project"]["dependencies"])
    # Mesa 3.5 imports networkx on `import mesa` without requiring it.
    assert any(r.startswith("networkx") for r in PYPROJECT["project"]["dependencies"])
