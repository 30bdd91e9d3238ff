"""Bad input, one case a line: what a user gives, the exit status, and what they are told.

Each row of :data:`CASES` is a category, an input, the expected exit status and a
fragment of the expected message. An input is an ``ioc-sim`` command line, or
``python: EXPRESSION`` for the Python API; there, status 2 means the call raised
the error the command line would print as one line with exit status 2 (a
:class:`ValueError`: ``ConfigError``, or ``AnalysisError`` from the analysis),
and 0 that it returned. In an input, ``@name`` is one of the files of
:data:`FILES` or folders of :func:`world`, written once for the module; ``@new``
is a folder of the row's own that does not exist yet.

Every row checks that no traceback is printed, and that a refusal of ``ioc-sim``
itself is a single line (``argparse`` adds its usage line before an option's
error, as its convention is). A new case is one more line.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from ioc_sim import survey
from ioc_sim.cli.main import main

SCENARIO = b'[scenario]\nname = "tiny"\nmonths = 12\n\n[system]\nn_organisations = 6\n'
EXPERIMENT = b"""[experiment]
name = "tiny"
scenario = "default"
seed = 3
replicates = 1
months = 2

[fixed]
n_organisations = 6

[design]
method = "compare"
scenarios = [
  { name = "a", set = { form = "clinical_network" } },
  { name = "b", set = { form = "buddying" } },
]

[outcomes]
final_trust = { metric = "trust", reduce = "final" }
"""


def _event(month: object, extra: str = "") -> bytes:
    return (
        SCENARIO
        + f'\n[[events]]\nmonth = {month}\nkind = "shock"\nmagnitude = 0.5\n{extra}'.encode()
    )


def _survey_csv() -> str:
    columns = survey.template_columns()
    items = survey.load_instrument().item_ids
    rows = [
        ",".join(
            {"organisation": org, "respondent": "1"}.get(c, "3" if c in items else "")
            for c in columns
        )
        for org in ("A", "B")
    ]
    return "\r\n".join([",".join(columns), *rows]) + "\r\n"


#: Files the rows name as ``@name``.
FILES: dict[str, bytes] = {
    "tiny.toml": SCENARIO,
    "bom.toml": b"\xef\xbb\xbf" + SCENARIO,
    "latin1.toml": b'[scenario]\nname = "caf\xe9"\nmonths = 12\n',
    "utf16.toml": SCENARIO.decode().encode("utf-16"),
    "empty.toml": b"",
    "comments.toml": b"# Question: what happens?\n# (nothing here yet)\n",
    "malformed.toml": b"[scenario\n",
    "unknown_table.toml": SCENARIO + b"\n[bogus]\nx = 1\n",
    "out_of_range.toml": SCENARIO + b"\n[parameters]\ntrust_asymmetry = 9\n",
    "month_negative.toml": _event(-1),
    "month_past_end.toml": _event(500),
    "month_fraction.toml": _event(1.5),
    "until_negative.toml": SCENARIO
    + b'\n[[collaborations]]\nname = "c"\nform = "alliance"\nmembers = "all"\n'
    + b'\n[[events]]\nmonth = 2\nkind = "support"\ncollaboration = "c"\nlevel = 0.5\nuntil = -1\n',
    "start_negative.toml": SCENARIO
    + b'\n[[collaborations]]\nname = "c"\nform = "alliance"\nmembers = "all"\nstart = -3\n',
    "exp.toml": EXPERIMENT,
    "exp_empty.toml": b"",
    "exp_bad_method.toml": EXPERIMENT.replace(b'method = "compare"', b'method = "magic"'),
    "answers.csv": _survey_csv().encode(),
    "answers_bom.csv": _survey_csv().encode("utf-8-sig"),
    "answers_utf16.csv": _survey_csv().encode("utf-16"),
    "answers_utf16le.csv": _survey_csv().encode("utf-16-le"),
    "answers.xlsx": b"PK\x03\x04 a workbook",
    "workbook_named.csv": b"PK\x03\x04 a workbook",
    "a_file": b"not a folder\n",
}

# fmt: off
CASES: list[tuple[str, str, int, str]] = [
    # category, input, exit status, fragment of the message
    # -- scenario files
    ("scenario", "run @bom.toml --replicates 1 --quiet --no-figure --out @new", 0, "results: "),
    ("scenario", "run @latin1.toml", 2, "not UTF-8 text: byte 0xe9 at line 2, column 12"),
    ("scenario", "run @utf16.toml", 2, "utf16.toml: the file is UTF-16 text; allowed: UTF-8"),
    ("scenario", "run @empty.toml", 2, "empty.toml: the file is empty"),
    ("scenario", "run @comments.toml", 2, "the file is empty (no tables or values)"),
    ("scenario", "run @malformed.toml", 2, "malformed TOML: Expected ']'"),
    ("scenario", "run @unknown_table.toml", 2, "bogus: unknown table"),
    ("scenario", "run @out_of_range.toml", 2, "trust_asymmetry: got 9; allowed: a number from 1 to 6"),
    ("scenario", "run @missing.toml", 2, "no such scenario file; bundled scenarios:"),
    ("scenario", "run @month_negative.toml", 2, "events[0].month: got -1; allowed: a whole month from 0 to 12 (the scenario's months)"),
    ("scenario", "run @month_past_end.toml", 2, "events[0].month: got 500; allowed: a whole month from 0 to 12 (the scenario's months)"),
    ("scenario", "run @month_fraction.toml", 2, "events[0].month: got 1.5; allowed: a whole month from 0 to 12 (the scenario's months)"),
    ("scenario", "run @until_negative.toml", 2, "events[0].until: got -1; allowed: a whole month from 0 to 12 (the scenario's months)"),
    ("scenario", "run @start_negative.toml", 2, "collaborations[0].start: got -3; allowed: a whole month from 0 to 12 (the scenario's months)"),
    # -- where a run writes
    ("run output", "run @tiny.toml --out /proc/ioc-sim-x", 2, "--out: cannot write to /proc/ioc-sim-x"),
    ("run output", "run @tiny.toml --out /sys/ioc-sim-x", 2, "--out: cannot write to /sys/ioc-sim-x"),
    ("run output", "run @tiny.toml --out @a_file/x", 2, "(Not a directory)"),
    ("run output", "run @tiny.toml --out @a_file", 2, "exists and is not a folder"),
    ("run output", "run @tiny.toml --out @run", 2, "already holds a run of 'tiny' (complete); allowed: another folder, or --force"),
    ("run output", "run @tiny.toml --out @results --force", 2, "holds an experiment's results"),
    # -- experiments
    ("experiment", "experiment run @exp_empty.toml", 2, "experiment: missing; allowed: an [experiment] table"),
    ("experiment", "experiment run @exp_bad_method.toml", 2, "design.method: got 'magic'"),
    ("experiment", "experiment run @exp.toml --out /proc/ioc-sim-x --workers 1", 2, "--out: cannot write to /proc/ioc-sim-x"),
    ("experiment", "experiment run @exp.toml --out @a_file --workers 1", 2, "exists and is not a folder"),
    ("experiment", "experiment run @exp.toml --scheduler notanaddress", 2, "argument --scheduler: got 'notanaddress'; allowed: the address a running Dask scheduler"),
    ("experiment", "experiment run @exp.toml --scheduler tcp://10.0.0.5 --out @new", 2, "got 'tcp://10.0.0.5'"),
    ("experiment", "experiment run @exp.toml --scheduler udp://10.0.0.5:8786 --out @new", 2, "got 'udp://10.0.0.5:8786'"),
    ("experiment", "experiment run @exp.toml --scheduler local:0", 2, "got 'local:0'"),
    ("experiment", "experiment run @exp.toml --scheduler tcp://127.0.0.1:1 --connect-timeout 1 --out @new", 2, "--scheduler: cannot reach a Dask scheduler at tcp://127.0.0.1:1 within 1 s"),
    ("experiment", "experiment analyse @results --second-order", 2, "second-order indices are Sobol' indices, and a compare design has none"),
    ("experiment", "experiment analyse @results_analysis_file", 2, "exists and is not a folder"),
    ("experiment", "experiment analyse @run", 2, "not an experiment results folder: a scenario run's folder"),
    ("experiment", "experiment analyse @a_file", 2, "not an experiment results folder (no manifest.json)"),
    ("experiment", "experiment show @run", 0, "one scenario (ioc-sim run)"),
    ("experiment", "experiment show @results", 0, "from ioc_sim import load_results; load_results("),
    ("theory", "theory test --out /proc/ioc-sim-x", 2, "--out: cannot write to /proc/ioc-sim-x"),
    ("theory", "validate --out /proc/ioc-sim-x", 2, "--out: cannot write to /proc/ioc-sim-x"),
    ("theory", "report @results --out /proc/ioc-sim-x.html", 2, "--out: cannot write to /proc/ioc-sim-x.html"),
    # -- the survey
    ("survey", "survey score @answers_bom.csv", 0, "respondent"),
    ("survey", "survey score @answers_utf16.csv", 2, "the file is UTF-16 text (Excel's \"Unicode Text\", or an export in UTF-16); allowed: CSV in UTF-8"),
    ("survey", "survey score @answers_utf16le.csv", 2, "the file is UTF-16 text"),
    ("survey", "survey score @answers.xlsx", 2, "wrong file type '.xlsx'"),
    ("survey", "survey score @workbook_named.csv", 2, "not a text CSV file"),
    ("survey", "survey score @answers.csv --out /proc/ioc-sim-x.csv", 2, "--out: cannot write to /proc/ioc-sim-x.csv"),
    ("survey", "survey score @answers.csv --out @a_file/x.csv", 2, "cannot write to"),
    ("survey", "survey template --out /proc/ioc-sim-x", 2, "--out: cannot write to /proc/ioc-sim-x"),
    ("survey", "survey template --out @a_file", 2, "exists and is not a folder"),
    # -- options
    ("CLI flags", "run default --seed -1", 2, "argument --seed: seed must be from 0"),
    ("CLI flags", "run default --months 0", 2, "argument --months: months must be from 1 to 1200"),
    ("CLI flags", "experiment run @exp.toml --workers 0", 2, "workers must be from 1 to 1024"),
    ("CLI flags", "experiment run @exp.toml --connect-timeout 0", 2, "connect-timeout must be from 1 to 3600"),
    ("CLI flags", "experiment run @exp.toml --workers 2 --scheduler local:2", 2, "--workers: give --workers"),
    ("CLI flags", "parameters --group nonsense", 2, "--group: got 'nonsense'"),
    # -- the Python API
    ("Python API", "python: CollaborationModel(rng=1, nonsense=1)", 2, "nonsense: unknown parameter"),
    ("Python API", "python: CollaborationModel(rng=1, trust_asymmetry=9)", 2, "trust_asymmetry: got 9; allowed: a number from 1 to 6"),
    ("Python API", "python: CollaborationModel(rng=1, months=12, events=[dict(month=-1, kind='shock', magnitude=0.5)])", 2, "events[0].month: got -1; allowed: a whole month from 0 to 1200 (the longest run)"),
    ("Python API", "python: load_scenario(@empty.toml)", 2, "the file is empty"),
    ("Python API", "python: load_scenario(@bom.toml).months", 0, ""),
    ("Python API", "python: run_experiment(load_experiment(@exp.toml), '/proc/ioc-sim-x')", 2, "--out: cannot write to /proc/ioc-sim-x"),
    ("Python API", "python: run_experiment(load_experiment(@exp.toml), @new, scheduler='nope')", 2, "--scheduler: got 'nope'"),
    ("Python API", "python: load_results(@run)", 2, "not an experiment results folder"),
    ("Python API", "python: analyse(@results, second_order=True)", 2, "a compare design has none"),
    ("Python API", "python: run_scenario(load_scenario(@tiny.toml), out=@run)", 2, "already holds a run of 'tiny'"),
]
# fmt: on


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """The files of :data:`FILES`, a finished run (``@run``), an experiment's results
    (``@results``) and a copy of them whose ``analysis`` is a file."""
    root = tmp_path_factory.mktemp("inputs")
    for name, data in FILES.items():
        (root / name).write_bytes(data)
    run = f"run {root}/tiny.toml --replicates 1 --months 2 --quiet --no-figure --out {root}/run"
    assert main(run.split()) == 0
    assert (
        main(f"experiment run {root}/exp.toml --workers 1 --quiet --out {root}/results".split())
        == 0
    )
    shutil.copytree(root / "results", root / "results_analysis_file")
    (root / "results_analysis_file" / "analysis").write_text("a file where a folder should be\n")
    return root


def _resolve(text: str, root: Path, new: Path, quote: bool) -> str:
    def sub(m: re.Match) -> str:
        path = str(new if m.group(1) == "new" else root / m.group(1))
        return repr(path) if quote else path

    return re.sub(r"@([\w.]+)", sub, text)


def _call(expression: str) -> tuple[int, str]:
    from ioc_sim import (  # noqa: F401 - names the expressions use
        CollaborationModel,
        load_experiment,
        load_results,
        load_scenario,
        run_experiment,
    )
    from ioc_sim.experiments.runs import run_scenario  # noqa: F401
    from ioc_sim.experiments.sensitivity import analyse  # noqa: F401

    try:
        eval(expression)  # noqa: S307 - the expressions are this module's own table
    except ValueError as err:
        return 2, str(err)
    return 0, ""


@pytest.mark.parametrize(
    ("category", "given", "status", "fragment"),
    CASES,
    ids=[f"{c[0]}: {c[1][:60]}" for c in CASES],
)
def test_bad_input(world, tmp_path, monkeypatch, capsys, category, given, status, fragment):
    if ("/proc/" in given or "/sys/" in given) and not sys.platform.startswith("linux"):
        pytest.skip("needs Linux's /proc and /sys")
    monkeypatch.chdir(tmp_path)  # default output folders land here
    new = tmp_path / "new"
    if given.startswith("python:"):
        code, message = _call(_resolve(given.removeprefix("python:").strip(), world, new, True))
        assert (code, fragment in message) == (status, True), message
        return
    argv = shlex.split(_resolve(given, world, new, False))
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse refuses an option this way
        code = exit_.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, err
    assert code == status, err
    if status == 0:
        assert fragment in out + err, out + err
        return
    errors = [line for line in err.splitlines() if "error: " in line]
    assert len(errors) == 1, err  # one line, whoever refuses
    assert fragment in errors[0], errors[0]
