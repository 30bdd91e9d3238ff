"""A script that runs an experiment in worker processes, pasted as it is from the README:
without the main guard it is refused at once with what to add, and nothing is written."""

from __future__ import annotations

import ast
import subprocess
import sys
import types
from pathlib import Path

from ioc_sim.experiments.spawning import GUARD, _inside_guard, _reimported_path

ROOT = Path(__file__).resolve().parent.parent

BODY = """\
from ioc_sim import load_experiment, run_experiment

exp = load_experiment("compare_forms")
manifest = run_experiment(exp, "results/compare_forms", workers=2, show_progress=False)
print("status", manifest["status"])
"""


def _run(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    script = tmp_path / "my_experiment.py"
    script.write_text(text, encoding="utf-8")
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, script.name],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_an_unguarded_script_is_refused_before_anything_starts(tmp_path):
    done = _run(tmp_path, BODY)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert "my_experiment.py:4: workers: run_experiment(workers=2) starts worker" in last
    assert GUARD in last
    assert "bootstrapping" not in done.stderr and "BrokenProcessPool" not in done.stderr
    assert not (tmp_path / "results").exists()  # no folder marked "stopped by an error"


def test_the_guarded_script_runs(tmp_path):
    guarded = 'if __name__ == "__main__":\n' + "".join(
        f"    {line}\n" if line else "\n" for line in BODY.splitlines()
    )
    done = _run(tmp_path, guarded)
    assert done.returncode == 0, done.stderr
    assert "status complete" in done.stdout


def _guarded(source: str, line: int) -> bool:
    return _inside_guard(ast.parse(source), line)


def test_the_guard_is_recognised_in_its_usual_spellings():
    source = (
        "import x\n"  # 1
        "def main():\n"  # 2
        "    x.run()\n"  # 3
        "main()\n"  # 4
        "if __name__ == '__main__':\n"  # 5
        "    main()\n"  # 6
        "if '__main__' == __name__:\n"  # 7
        "    main()\n"  # 8
        "if __name__ != '__main__':\n"  # 9
        "    main()\n"  # 10
    )
    assert not _guarded(source, 4)
    assert _guarded(source, 6) and _guarded(source, 8)
    assert not _guarded(source, 10)


def test_what_workers_import_again():
    def module(spec_name, file):
        mod = types.ModuleType("__main__")
        mod.__spec__ = types.SimpleNamespace(name=spec_name) if spec_name else None
        if file:
            mod.__file__ = file
        return mod

    assert _reimported_path(module(None, "/x/script.py")) == "/x/script.py"
    assert _reimported_path(module("tools.batch", "/x/tools/batch.py")) == "/x/tools/batch.py"
    assert _reimported_path(module("ioc_sim.__main__", "/x/ioc_sim/__main__.py")) is None
    assert _reimported_path(module(None, None)) is None  # a notebook or the REPL
