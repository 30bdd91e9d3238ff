"""Scenario files, the command line and the results folder, as a user meets them."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ioc_sim import CollaborationModel, load_scenario
from ioc_sim.cli.main import main
from ioc_sim.errors import ConfigError
from ioc_sim.experiments.runs import replicate_seeds, run_scenario
from ioc_sim.experiments.scenarios import bundled_scenarios

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = bundled_scenarios()
REQUIRED = {
    "default",
    "buddying",
    "provider_collaborative",
    "group_model",
    "merger",
    "national_programme",
    "integrated_care_system",
    "regime_switch",
    "pandemic_shock",
}


def test_required_scenarios_are_bundled():
    assert REQUIRED <= {p.stem for p in BUNDLED}


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_scenario_loads_runs_and_says_what_it_asks(path):
    text = path.read_text()
    assert text.startswith("# Question:"), "each file opens with the question it answers"
    sc = load_scenario(path)
    assert sc.question
    model = sc.build(months=24)
    model.run()
    df = model.model_dataframe()
    assert len(df) == 25
    assert df.notna().all().all()
    assert df["collaborative_behaviour"].iloc[1:].max() > 0


def test_bundled_name_resolves_like_a_path():
    by_name, by_path = load_scenario("default"), load_scenario(ROOT / "scenarios/default.toml")
    # The same file in a checkout (a link); an identical copy in an unpacked sdist.
    assert by_name.path.read_bytes() == by_path.path.read_bytes()
    assert by_name.raw == by_path.raw and by_name.name == by_path.name


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad.toml"
    p.write_text(text)
    return p


BASE = '[scenario]\nname = "x"\nmonths = 12\n'
BAD = [
    ("malformed", "[scenario\nname=1", "malformed TOML"),
    ("unknown table", BASE + "[sytem]\ncompetition = 0.2\n", "sytem: unknown table"),
    ("unknown key", BASE + "[system]\ncompetiton = 0.2\n", "system.competiton: unknown key"),
    (
        "wrong table",
        BASE + "[system]\ntrust_gain = 0.2\n",
        "system.trust_gain: belongs in [parameters]",
    ),
    (
        "wrong type",
        BASE + '[system]\ncompetition = "high"\n',
        "system.competition: got 'high' (str); allowed: a number from 0 to 1",
    ),
    (
        "out of range",
        BASE + "[parameters]\ntrust_asymmetry = 9\n",
        "parameters.trust_asymmetry: got 9; allowed: a number from 1 to 6",
    ),
    ("bad months", "[scenario]\nmonths = 0\n", "scenario.months: got 0; allowed"),
    (
        "unknown form",
        BASE + "[[collaborations]]\nname='a'\nform = \"marriage\"\n",
        "collaborations[0].form: unknown form 'marriage'",
    ),
    (
        "unknown specification",
        BASE + '[specifications]\ntrust_update = "linear"\n',
        "specifications.trust_update: got 'linear'; allowed: one of 'asymmetric_ceiling'",
    ),
    (
        "unknown member",
        BASE + "[[collaborations]]\nname='a'\nmembers=['NOPE', 'ORG01']\n",
        "collaborations[0].members: unknown organisation 'NOPE'",
    ),
    (
        "event too late",
        BASE + "[[events]]\nmonth = 40\nkind = 'shock'\nmagnitude = 0.5\n",
        "events[0].month: got 40; allowed: a whole month from 0 to 12",
    ),
    (
        "unknown event",
        BASE + "[[events]]\nmonth = 4\nkind = 'earthquake'\n",
        "events[0].kind: got 'earthquake'; allowed: one of",
    ),
    (
        "bad org type",
        BASE + "[[organisations]]\nid='A'\ntype='hospital'\n"
        "[[organisations]]\nid='B'\ntype='acute'\n",
        "organisations[0].type: got 'hospital'",
    ),
]


@pytest.mark.parametrize("text,expected", [(t, e) for _, t, e in BAD], ids=[n for n, _, _ in BAD])
def test_bad_scenario_names_file_and_field(tmp_path, text, expected):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_scenario(p)
    message = str(info.value)
    assert message.startswith(str(p)), message
    assert expected in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    "text,expected", [(t, e) for _, t, e in BAD[:4]], ids=[n for n, _, _ in BAD[:4]]
)
def test_cli_bad_scenario_is_one_line_and_exit_2(tmp_path, text, expected):
    p = write(tmp_path, text)
    proc = subprocess.run(
        [sys.executable, "-m", "ioc_sim.cli", "run", str(p), "--quiet"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], proc.stderr


def test_cli_missing_file(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nowhere.toml"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "nowhere.toml: no such scenario file; bundled scenarios: " in err
    assert "default" in err


def test_cli_rejects_bad_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "default", "--months", "-3"])
    assert info.value.code == 2
    assert "months must be from 1 to 1200" in capsys.readouterr().err


def test_cli_run_writes_results_folder(tmp_path, capsys):
    out = tmp_path / "res"
    code = main(
        ["run", "default", "--seed", "5", "--months", "18", "--replicates", "3", "--out", str(out)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "trust" in printed and "month 18" in printed and str(out) in printed
    ts = pd.read_csv(out / "timeseries.csv")
    assert sorted(ts["replicate"].unique()) == [0, 1, 2]
    assert ts["month"].max() == 18 and len(ts) == 3 * 19
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["month"]) == {0, 12, 18}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["root_seed"] == 5
    assert manifest["replicate_seeds"] == replicate_seeds(5, 3)
    assert manifest["parameters"]["n_organisations"] == 20
    assert {"mesa", "numpy", "python"} <= set(manifest["versions"])
    assert "git_commit" in manifest
    png = (out / "trajectories.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000
    assert (out / "collaborations.csv").exists()


def test_one_replicate_replays_alone_from_its_stored_seed(tmp_path):
    sc = load_scenario("default")
    out, ts, _ = run_scenario(
        sc, seed=11, months=15, replicates=3, out=tmp_path / "r", show_progress=False, figure=False
    )
    seed = json.loads((out / "manifest.json").read_text())["replicate_seeds"][2]
    alone = CollaborationModel(rng=seed, **sc.model_kwargs(months=15)).run().model_dataframe()
    stored = ts[ts["replicate"] == 2].set_index("month")[alone.columns]
    pd.testing.assert_frame_equal(stored, alone, check_names=False)


def test_a_run_writes_what_happened_in_every_replicate(tmp_path):
    sc = load_scenario("merger")
    out, _, _ = run_scenario(
        sc, seed=3, months=36, replicates=3, out=tmp_path / "r", show_progress=False, figure=False
    )
    seeds = json.loads((out / "manifest.json").read_text())["replicate_seeds"]
    alone = CollaborationModel(rng=seeds[2], **sc.model_kwargs(months=36)).run()
    for name, table in (
        ("episodes", alone.episodes()),
        ("pairs", alone.pairs()),
        ("collaboration_events", alone.collaboration_events()),
        ("organisation_events", alone.organisation_events()),
        ("organisations", alone.organisations_now()),
    ):
        stored = pd.read_csv(out / f"{name}.csv")
        assert sorted(stored["replicate"].unique()) == [0, 1, 2], name
        mine = stored[stored["replicate"] == 2].reset_index(drop=True)
        # The file holds what the model run alone with that replicate's seed shows.
        table["replicate"] = 2
        written = io.StringIO(table.to_csv(index=False))
        # Values, not dtypes: a column read whole may hold an empty cell of another
        # replicate, which makes its whole numbers floats.
        pd.testing.assert_frame_equal(mine, pd.read_csv(written), check_dtype=False, obj=name)
    merger = pd.read_csv(out / "episodes.csv").query("episode == 'merger'")
    assert merger["start"].tolist() == [24, 24, 24] and set(merger["absorbed"]) == {"ACQUIRED"}
    orgs = pd.read_csv(out / "organisations.csv")
    assert (orgs["month"] == 36).all() and orgs["emergency_admissions"].notna().sum() == 3 * 3


def test_replicate_seeds_are_stable_and_distinct():
    assert replicate_seeds(1, 5)[:3] == replicate_seeds(1, 3)
    assert len(set(replicate_seeds(1, 50))) == 50
    assert replicate_seeds(1, 3) != replicate_seeds(2, 3)


def test_interrupted_run_keeps_finished_replicates(tmp_path, monkeypatch):
    import ioc_sim.experiments.runs as runs

    real = runs.iter_replicates

    def interrupt_after_two(*args, **kwargs):
        for k, res in enumerate(real(*args, **kwargs)):
            if k == 2:
                raise KeyboardInterrupt
            yield res

    monkeypatch.setattr(runs, "iter_replicates", interrupt_after_two)
    out = tmp_path / "r"
    assert (
        main(["run", "default", "--months", "6", "--replicates", "4", "--out", str(out), "--quiet"])
        == 130
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["finished_replicates"] == 2
    assert sorted(pd.read_csv(out / "timeseries.csv")["replicate"].unique()) == [0, 1]
    for name in ("episodes", "pairs", "organisations", "collaboration_events"):
        assert sorted(pd.read_csv(out / f"{name}.csv")["replicate"].unique()) == [0, 1], name


def test_scenarios_command_lists_each_with_its_question(capsys):
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(BUNDLED)
    assert any(line.startswith("default") and "alliance" in line for line in lines)


def test_parameters_and_forms_commands(capsys):
    assert main(["parameters", "--group", "specification"]) == 0
    out = capsys.readouterr().out
    assert "trust_update" in out and "crowding_out" in out
    assert main(["parameters", "--group", "nonsense"]) == 2
    assert main(["forms"]) == 0
    assert "merger" in capsys.readouterr().out
