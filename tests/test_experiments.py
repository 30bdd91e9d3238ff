"""Experiments: spec validation, designs, seeds, batched execution, storage, resume, analysis."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ioc_sim import CollaborationModel
from ioc_sim.cli.main import main
from ioc_sim.errors import ConfigError
from ioc_sim.experiments.execution import run_experiment
from ioc_sim.experiments.experiment_tables import parse_experiment
from ioc_sim.experiments.results import load_results
from ioc_sim.experiments.runs import replicate_seeds
from ioc_sim.experiments.sensitivity import analyse
from ioc_sim.experiments.spec import bundled_experiments, load_experiment
from ioc_sim.experiments.tasks import Task, make_tasks, run_task
from ioc_sim.model.metrics import METRICS
from ioc_sim.spec.parameters import PARAMETERS

ROOT = Path(__file__).resolve().parent.parent

OUTCOMES = """
[outcomes]
final_trust = { metric = "trust", reduce = "final" }
trust_at_6 = { metric = "trust", reduce = "final", month = 6 }
mean_perf = { metric = "organisational_performance", reduce = "mean", from = 4, to = 10 }
auc_behaviour = { metric = "collaborative_behaviour", reduce = "auc", from = 2 }
months_to_faith = { metric = "faith", reduce = "time_to", threshold = 0.45, direction = "below" }
dissolved = { reduce = "dissolved_share" }
"""


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def small(
    method: str = "morris",
    extra: str = "",
    replicates: int = 2,
    months: int = 12,
    factors: str | None = None,
) -> str:
    if factors is None:
        factors = "[factors]\ntrust_gain = {}\ntrust_update = {}\ndissolve_patience = {}\n"
    return (
        f'[experiment]\nname = "small"\nscenario = "default"\nseed = 5\n'
        f"replicates = {replicates}\nmonths = {months}\n\n[fixed]\nn_organisations = 8\n\n"
        f'[design]\nmethod = "{method}"\n{extra}\n{factors}{OUTCOMES}'
    )


def test_names_moved_into_their_own_modules_are_still_importable_from_the_old_ones():
    from ioc_sim.experiments import analysers, experiment, experiment_tables, sensitivity, spec

    assert spec.Experiment is experiment.Experiment
    assert spec.parse_experiment is experiment_tables.parse_experiment
    for name in (
        "AnalysisError",
        "compare_table",
        "constant_outcomes",
        "fast_indices",
        "grid_main_effects",
        "latin_indices",
        "morris_indices",
        "problem_from_manifest",
        "sobol_convergence",
        "sobol_indices",
    ):
        assert getattr(sensitivity, name) is getattr(analysers, name), name
    from ioc_sim.experiments import results, writer

    assert results.ResultsWriter is writer.ResultsWriter


# ----------------------------------------------------------------- validation
def test_bundled_experiments_load_and_have_the_asked_sizes():
    names = {p.stem for p in bundled_experiments()}
    assert {"morris_all", "sobol_leading", "compare_forms", "sobol_benchmark"} <= names
    for p in bundled_experiments():
        assert p.read_text().startswith("# Question:")
        exp = load_experiment(p)
        assert exp.n_rows > 0 and exp.outcomes
    bench = load_experiment("sobol_benchmark")
    assert (len(bench.factors), bench.options["n"], bench.replicates, bench.months) == (
        12,
        1024,
        5,
        120,
    )
    assert bench.row_kwargs(0)["n_organisations"] == 200
    assert bench.n_runs == 133_120  # N (2D + 2) rows with second-order indices, 5 replicates
    screening = load_experiment("morris_all")
    wanted = {p.name for p in PARAMETERS.values() if p.sensitivity} - {"form"}
    assert set(screening.factor_names) == wanted


BAD = [
    ("no design", '[experiment]\nscenario = "default"\n' + OUTCOMES, "design.method: missing"),
    (
        "bad method",
        small().replace('"morris"', '"saltelli"'),
        "design.method: got 'saltelli'; allowed: one of 'compare'",
    ),
    ("sobol n", small("sobol", "n = 100"), "design.n: got 100; allowed: a power of two"),
    (
        "sobol option on morris",
        small("morris", "n = 64"),
        "design.n: unknown key for method = 'morris'",
    ),
    ("odd levels", small("morris", "levels = 3"), "design.levels: got 3; allowed: an even"),
    (
        "unknown factor",
        small(factors="[factors]\ntrust_gian = {}\n"),
        "factors.trust_gian: unknown parameter (did you mean 'trust_gain'?)",
    ),
    (
        "factor out of bounds",
        small(factors="[factors]\ntrust_gain = {low = 0.0, high = 0.3}\n"),
        "factors.trust_gain.low: got 0.0; allowed: a number from "
        f"{PARAMETERS['trust_gain'].low:g} to {PARAMETERS['trust_gain'].high:g}",
    ),
    (
        "reversed range",
        small(factors="[factors]\ntrust_gain = {low = 0.3, high = 0.1}\n"),
        "factors.trust_gain: low 0.3 must be below high 0.1",
    ),
    (
        "bad choice",
        small(factors='[factors]\ntrust_update = {choices = ["ratchet", "x"]}\n'),
        "factors.trust_update.choices[1]: got 'x'; allowed: one of",
    ),
    (
        "months factor",
        small(factors="[factors]\nmonths = {}\n"),
        "factors.months: cannot be a factor",
    ),
    (
        "values off grid",
        small(factors="[factors]\ntrust_gain = {values = [0.1]}\n"),
        "factors.trust_gain.values: unknown key for a float factor",
    ),
    (
        "fixed and factor",
        small().replace("n_organisations = 8", "trust_gain = 0.2"),
        "fixed.trust_gain: is also a factor",
    ),
    (
        "unknown metric",
        small().replace(
            'metric = "trust", reduce = "final" }', 'metric = "trsut", reduce = "final" }'
        ),
        "outcomes.final_trust.trsut: unknown metric (did you mean 'trust'?)",
    ),
    (
        "window past end",
        small().replace("to = 10", "to = 99"),
        "outcomes.mean_perf.to: got 99; allowed: a whole month from 0 to 12",
    ),
    (
        "bad reduce",
        small().replace('reduce = "auc"', 'reduce = "integral"'),
        "outcomes.auc_behaviour.reduce: got 'integral'; allowed: one of 'final'",
    ),
    (
        "time_to threshold",
        small().replace("threshold = 0.45, ", ""),
        "outcomes.months_to_faith.threshold: got None; allowed: a number",
    ),
    ("replicates", small(replicates=0), "experiment.replicates: got 0; allowed: a whole number"),
    (
        "unknown scenario",
        small().replace('"default"', '"nowhere"', 1),
        "experiment.scenario: nowhere: no such scenario file",
    ),
    (
        "compare one",
        small("compare", 'scenarios = ["default"]', factors=""),
        "design.scenarios: got ['default']; allowed: a list of two or more",
    ),
    (
        "compare set",
        small("compare", 'scenarios = ["default", {name = "x", set = {form = "y"}}]', factors=""),
        "design.scenarios[1].set.form: got 'y'; allowed: one of",
    ),
    ("unknown table", small() + "\n[hypotheses]\nx = 1\n", "hypotheses: unknown table"),
    ("malformed", "[experiment\n", "malformed TOML"),
    (
        "folder-unsafe name",
        small().replace('name = "small"', 'name = "../x"'),
        "experiment.name: got '../x'; allowed: letters, digits",
    ),
    (
        "fixed months",
        small().replace("n_organisations = 8", "months = 3"),
        "fixed.months: set the run length with experiment.months",
    ),
]


@pytest.mark.parametrize("text,expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_invalid_experiment_names_file_field_and_what_is_allowed(tmp_path, capsys, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert str(info.value).startswith(f"{path}: ")
    assert expected in str(info.value)
    assert main(["experiment", "run", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0] == f"ioc-sim: error: {info.value}"
    assert not (tmp_path / "o").exists()


# ----------------------------------------------------------------- designs and seeds
def test_design_sizes_and_factor_mapping(tmp_path):
    f3 = "[factors]\ntrust_gain = {}\ntrust_update = {}\ndissolve_patience = {low = 2, high = 4}\n"
    sizes = {
        "sobol": ("n = 8", 8 * 5),
        "morris": ("trajectories = 4", 4 * 4),
        "fast": ("n = 70", 70 * 3),
        "latin": ("n = 30", 30),
        "grid": ("levels = 2", 2 * 3 * 2),
    }
    for method, (opt, n) in sizes.items():
        exp = load_experiment(write(tmp_path, small(method, opt, factors=f3)))
        assert exp.n_rows == n, method
        d = exp.design_frame()
        assert set(d["trust_update"]) <= set(PARAMETERS["trust_update"].choices)
        assert set(d["dissolve_patience"]) <= {2, 3, 4}
        gain = PARAMETERS["trust_gain"]  # a factor without a range spans the declared one
        assert d["trust_gain"].between(gain.low, gain.high).all()
        assert all(isinstance(v, int) for v in d["dissolve_patience"])
    sobol2 = load_experiment(
        write(tmp_path, small("sobol", "n = 8\nsecond_order = true", factors=f3))
    )
    assert sobol2.n_rows == 8 * 8
    # Integers: every value equally likely; choices by index.
    latin = load_experiment(write(tmp_path, small("latin", "n = 3000", factors=f3)))
    counts = latin.design_frame()["dissolve_patience"].value_counts()
    assert set(counts.index) == {2, 3, 4} and counts.min() > 900
    counts = latin.design_frame()["trust_update"].value_counts()
    assert len(counts) == 3 and counts.min() > 900
    # The design is data: same file, same rows.
    again = load_experiment(write(tmp_path, small("latin", "n = 3000", factors=f3)))
    pd.testing.assert_frame_equal(latin.design_frame(), again.design_frame())


def test_seeds_are_shared_across_rows_and_stored_per_run(tmp_path):
    exp = load_experiment(write(tmp_path, small("latin", "n = 4", replicates=3)))
    runs = exp.runs_frame()
    assert list(runs["run_id"]) == list(range(12))
    seeds = replicate_seeds(5, 3, row=0)
    assert exp.seeds == seeds
    for row in range(4):
        assert list(runs.loc[runs["row"] == row, "seed"]) == seeds
    tasks = list(make_tasks(exp, skip={0, 1, 5}, chunk=2))
    assert [t.run_ids for t in tasks] == [(2,), (3, 4), (6, 7), (8,), (9, 10), (11,)]


# ----------------------------------------------------------------- batched execution
def _reduce_alone(df: pd.DataFrame, n_collabs: int, months: int) -> dict[str, float]:
    """The outcomes of OUTCOMES, computed independently from a model's data frame."""
    faith = df["faith"].to_numpy()
    below = np.nonzero(faith <= 0.45)[0]
    return {
        "final_trust": df["trust"].iloc[months],
        "trust_at_6": df["trust"].iloc[6],
        "mean_perf": df["organisational_performance"].iloc[4:11].mean(),
        "auc_behaviour": np.trapezoid(df["collaborative_behaviour"].iloc[2 : months + 1]),
        "months_to_faith": below[0] if len(below) else months + 1,
        "dissolved": df["dissolved_collaborations"].iloc[months] / n_collabs,
    }


@pytest.mark.parametrize("scenario", ["pandemic_shock", "merger", "integrated_care_system"])
def test_a_replicate_in_a_batch_equals_the_model_run_alone(tmp_path, scenario):
    # Factors of every kind: a mechanism rate, a switch, an integer, a collaboration context.
    factors = (
        "[factors]\ntrust_gain = {}\ntrust_update = {}\npartners_per_org = "
        "{low = 2, high = 5}\nshared_vision = {}\n"
    )
    text = small("latin", "n = 2", replicates=3, months=30, factors=factors).replace(
        '"default"', f'"{scenario}"'
    )
    text = text.replace("n_organisations = 8", "")
    exp = load_experiment(write(tmp_path, text))
    kwargs = exp.row_kwargs(1)
    task = Task(
        1, (3, 4, 5), (0, 1, 2), tuple(exp.seeds), kwargs, 30, tuple(exp.outcomes), tuple(METRICS)
    )
    res = run_task(task)
    assert [r["status"] for r in res.records] == ["ok"] * 3
    # Few metrics take metrics.evaluate's per-metric path; many its all-at-once path.
    lean = run_task(
        Task(
            1,
            (3, 4, 5),
            (0, 1, 2),
            tuple(exp.seeds),
            kwargs,
            30,
            tuple(exp.outcomes[:1]),
            ("trust",),
        )
    )
    for i, seed in enumerate(exp.seeds):
        model = CollaborationModel(rng=seed, **kwargs).run()
        df = model.model_dataframe()
        for name in METRICS:  # every metric, every month, bit for bit
            np.testing.assert_array_equal(res.series[name][i], df[name].to_numpy(), name)
        np.testing.assert_array_equal(lean.series["trust"][i], df["trust"].to_numpy())
        assert lean.records[i]["final_trust"] == df["trust"].iloc[-1]
        expected = _reduce_alone(df, model.sim.C, 30)
        for name, value in expected.items():
            assert res.records[i][name] == pytest.approx(value, rel=1e-12, abs=1e-12), name
        # And Experiment.replay rebuilds the same run from its id.
        replay = exp.replay(exp.run_id(1, i)).run().model_dataframe()
        pd.testing.assert_frame_equal(replay, df)


def test_run_task_isolates_a_failing_replicate(monkeypatch):
    import ioc_sim.experiments.tasks as ex

    real = ex._run_batch

    def flaky(task, seeds):
        if 22 in seeds:
            raise RuntimeError("boom at seed 22")
        return real(task, seeds)

    monkeypatch.setattr(ex, "_run_batch", flaky)
    exp = parse_experiment(__import__("tomllib").loads(small("latin", "n = 2")))
    task = Task(0, (0, 1, 2), (0, 1, 2), (21, 22, 23), exp.row_kwargs(0), 12, tuple(exp.outcomes))
    recs = run_task(task).records
    assert [r["status"] for r in recs] == ["ok", "failed", "ok"]
    assert "RuntimeError: boom at seed 22" in recs[1]["error"]
    assert math.isnan(recs[1]["final_trust"]) and not math.isnan(recs[2]["final_trust"])


# ----------------------------------------------------------------- storage, resume, failures
def test_results_folder_loads_back_as_dataframes(tmp_path):
    exp = load_experiment(
        write(
            tmp_path,
            small("morris", "trajectories = 3").replace(
                "replicates = 2", 'replicates = 2\nkeep_timeseries = ["trust"]'
            ),
        )
    )
    manifest = run_experiment(exp, tmp_path / "out", show_progress=False)
    assert (manifest["status"], manifest["finished"], manifest["failed"]) == ("complete", 24, 0)
    for key in (
        "experiment_contents",
        "root_seed",
        "design_rows",
        "versions",
        "git_commit",
        "platform",
        "started",
        "ended",
        "replicate_seeds",
    ):
        assert key in manifest
    assert (tmp_path / "out/experiment.toml").read_text() == exp.path.read_text()
    res = load_results(tmp_path / "out")
    assert list(res.runs["run_id"]) == list(range(24))
    assert list(res.runs["seed"]) == exp.seeds * 12
    assert list(res.design.columns[:6]) == [
        "row",
        "label",
        "scenario",
        "trust_gain",
        "trust_update",
        "dissolve_patience",
    ]
    assert res.timeseries.shape == (24 * 13, 3)
    trust = res.timeseries.query("month == 12").set_index("run_id")["trust"]
    np.testing.assert_array_equal(trust.to_numpy(), res.runs["final_trust"].to_numpy())
    assert res.row_means()["n_ok"].eq(2).all()
    # Any stored run replays alone from the results folder, to the same numbers.
    run = res.runs.iloc[17]
    replay = res.replay(run["run_id"]).run().model_dataframe()
    assert replay["trust"].iloc[-1] == run["final_trust"]
    assert replay["trust"].iloc[6] == run["trust_at_6"]
    # A different experiment may not be mixed into the folder.
    other = load_experiment(write(tmp_path, small("morris", "trajectories = 4"), "other.toml"))
    with pytest.raises(ConfigError, match="holds results of a different experiment"):
        run_experiment(other, tmp_path / "out", show_progress=False)


def test_rerun_skips_finished_runs_and_finishes_missing_ones(tmp_path):
    exp = load_experiment(write(tmp_path, small("latin", "n = 6")))
    full = run_experiment(exp, tmp_path / "a", show_progress=False)
    assert full["finished"] == 12
    # Pretend the run stopped half-way: keep only the first part's first runs.
    out = tmp_path / "b"
    run_experiment(exp, out, show_progress=False)
    part = next((out / "runs").glob("part-*.parquet"))
    pd.read_parquet(part).query("run_id < 5").to_parquet(part, index=False)
    (out / "runs/.part-000099.parquet.tmp").write_bytes(b"half-written")
    manifest = run_experiment(exp, out, show_progress=False)
    assert manifest["sessions"][-1]["already_finished"] == 5
    parts = pd.concat(pd.read_parquet(p) for p in (out / "runs").glob("part-*.parquet"))
    assert sorted(parts["run_id"]) == list(range(12))  # nothing lost, nothing repeated
    assert not list((out / "runs").glob(".*.tmp"))
    a, b = load_results(tmp_path / "a").runs, load_results(out).runs
    cols = [o.name for o in exp.outcomes] + ["run_id", "seed", "row", "replicate"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    # Running a complete experiment again runs nothing.
    assert run_experiment(exp, out, show_progress=False)["sessions"][-1]["already_finished"] == 12


def test_failed_runs_are_recorded_and_analysis_names_missing_rows(tmp_path, monkeypatch, capsys):
    import ioc_sim.experiments.tasks as ex

    real = ex._run_batch
    exp = load_experiment(write(tmp_path, small("morris", "trajectories = 3")))

    def flaky(task, seeds):
        if task.row == 2 or (task.row == 5 and exp.seeds[1] in seeds):
            raise ValueError(f"cannot run row {task.row}")
        return real(task, seeds)

    monkeypatch.setattr(ex, "_run_batch", flaky)
    out = tmp_path / "out"
    assert (
        main(["experiment", "run", str(exp.path), "--out", str(out), "--workers", "1", "--quiet"])
        == 1
    )
    res = load_results(out)
    assert sorted(res.failed["run_id"]) == [4, 5, 11]
    assert res.failed["error"].str.contains("ValueError: cannot run row").all()
    assert res.manifest["failed"] == 3 and res.manifest["status"] == "complete with failures"
    assert main(["experiment", "analyse", str(out)]) == 1
    captured = capsys.readouterr()
    assert (
        "morris indices not computed: 1 of 12 design rows have no successful run "
        "(1 with failed runs, 0 not yet run): rows 2" in captured.err
    )
    assert (out / "analysis/failed_runs.csv").exists()
    assert (
        "1 design row(s) are averaged over fewer replicates than the design asks for "
        "(failed or missing runs): rows 5" in (out / "analysis/summary.md").read_text()
    )
    assert not (out / "analysis/morris.csv").exists()
    # Retrying with the cause gone completes the experiment; the last record wins.
    monkeypatch.setattr(ex, "_run_batch", real)
    assert (
        main(
            [
                "experiment",
                "run",
                str(exp.path),
                "--out",
                str(out),
                "--workers",
                "1",
                "--quiet",
                "--retry-failed",
            ]
        )
        == 0
    )
    res = load_results(out)
    assert len(res.runs) == 24 and res.failed.empty
    assert main(["experiment", "analyse", str(out)]) == 0
    assert (out / "analysis/morris.csv").exists()


# ----------------------------------------------------------------- analysis and CLI
def test_cli_run_analyse_show_for_each_design(tmp_path, capsys):
    designs = {
        "morris": "trajectories = 3",
        "sobol": "n = 4",
        "fast": "n = 70",
        "latin": "n = 12",
        "grid": "levels = 2",
        "compare": 'scenarios = ["default", {name = "formal", set = {formalisation = 0.9}}]',
    }
    for method, opt in designs.items():
        factors = "" if method == "compare" else None
        path = write(tmp_path, small(method, opt, factors=factors, months=12), f"{method}.toml")
        out = tmp_path / method
        assert (
            main(["experiment", "run", str(path), "--out", str(out), "--workers", "1", "--quiet"])
            == 0
        ), method
        assert main(["experiment", "analyse", str(out), "--no-figures"]) == 0, method
        summary = (out / "analysis/summary.md").read_text()
        assert "final_trust" in summary and "Run-to-run noise" in summary
        assert main(["experiment", "show", str(out)]) == 0
        shown = capsys.readouterr().out
        assert "24 finished" in shown or method in ("grid", "fast", "sobol", "latin", "compare")
        noise = pd.read_csv(out / "analysis/noise.csv").set_index("outcome")
        assert noise["noise_share"].between(0, 1).all() or noise["noise_share"].isna().any()
    sobol = pd.read_csv(tmp_path / "sobol/analysis/sobol.csv")
    assert set(sobol.columns) >= {"outcome", "factor", "S1", "S1_conf", "ST", "ST_conf"}
    compare = pd.read_csv(tmp_path / "compare/analysis/compare.csv")
    assert list(compare["scenario"].unique()) == ["default", "formal"]


def test_workers_and_scheduler_are_exclusive(tmp_path, capsys):
    path = write(tmp_path, small("latin", "n = 2"))
    assert main(["experiment", "run", str(path), "--workers", "2", "--scheduler", "local:2"]) == 2
    assert "--workers: give --workers" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["experiment", "run", str(path), "--scheduler", "local:x"])
    assert info.value.code == 2


def test_show_says_what_is_missing(tmp_path, capsys):
    exp = load_experiment(write(tmp_path, small("latin", "n = 3")))
    out = tmp_path / "out"
    run_experiment(exp, out, show_progress=False)
    part = next((out / "runs").glob("part-*.parquet"))
    pd.read_parquet(part).query("run_id < 2").to_parquet(part, index=False)
    assert main(["experiment", "show", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 finished, 0 failed, 4 missing" in text
    assert "missing: summary.md, outcomes_by_row.csv, noise.csv, latin.csv" in text
    assert f"finish the runs: ioc-sim experiment run {exp.path} --out {out}" in text
    assert main(["experiment", "show", str(tmp_path)]) == 2
    assert "not an experiment results folder" in capsys.readouterr().err


def test_analysis_refuses_second_order_a_design_does_not_have(tmp_path, capsys):
    exp = load_experiment(write(tmp_path, small("sobol", "n = 4")))
    run_experiment(exp, tmp_path / "out", show_progress=False)
    assert main(["experiment", "analyse", str(tmp_path / "out"), "--second-order"]) == 2
    assert "design.second_order = true" in capsys.readouterr().err
    an = analyse(tmp_path / "out", figures=True)
    assert {p.name for p in an.figures} == {f"sobol_{o.name}.png" for o in exp.outcomes}


def test_selftest_fails_loudly_when_the_indices_are_not_recovered(capsys):
    # N = 64 is far too small for 0.02: the check must be able to fail.
    assert main(["experiment", "selftest", "--n", "64", "--quiet"]) == 1
    assert "selftest FAILED" in capsys.readouterr().out
    assert main(["experiment", "selftest", "--n", "100", "--quiet"]) == 2


def test_compare_keeps_series_and_draws_paired_comparisons(tmp_path):
    text = small(
        "compare",
        'scenarios = ["default", {name = "deep", set = {integration_depth = 0.9}}]',
        factors="",
    ).replace("replicates = 2", "replicates = 3\nkeep_timeseries = true")
    exp = load_experiment(write(tmp_path, text))
    run_experiment(exp, tmp_path / "out", show_progress=False)
    an = analyse(tmp_path / "out")
    names = {p.name for p in an.figures}
    assert "trajectories.png" in names and "compare_final_trust.png" in names
    table = an.tables["compare"].query("outcome == 'final_trust'").set_index("scenario")
    runs = load_results(tmp_path / "out").runs.pivot(
        index="replicate", columns="row", values="final_trust"
    )
    # Paired by replicate: replicate r of both scenarios shares its seed.
    assert table.loc["deep", "diff_from_first"] == pytest.approx((runs[1] - runs[0]).mean())
    assert set(load_results(tmp_path / "out").timeseries.columns) == {
        "run_id",
        "month",
        "trust",
        "organisational_performance",
        "collaborative_behaviour",
        "faith",
    }


# ----------------------------------------------------------------- slow: pipeline checks
@pytest.mark.slow
def test_selftest_recovers_the_ishigami_indices(capsys):
    assert main(["experiment", "selftest", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "selftest passed" in out
    assert "S1[x1]" in out and "ST[x3]" in out


@pytest.mark.slow
def test_serial_process_pool_and_dask_cluster_give_identical_results(tmp_path):
    exp = load_experiment(write(tmp_path, small("sobol", "n = 8", replicates=3, months=24)))
    serial = run_experiment(exp, tmp_path / "serial", workers=1, show_progress=False)
    pool = run_experiment(exp, tmp_path / "pool", workers=2, chunk=2, show_progress=False)
    dask = run_experiment(exp, tmp_path / "dask", scheduler="local:2", show_progress=False)
    assert serial["finished"] == pool["finished"] == dask["finished"] == exp.n_runs
    assert "dask local:2" in dask["sessions"][-1]["executor"]
    # A cluster started elsewhere, reached by its scheduler address.
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        remote = run_experiment(
            exp,
            tmp_path / "remote",
            scheduler=cluster.scheduler_address,
            chunk=1,
            show_progress=False,
        )
    assert remote["finished"] == exp.n_runs
    cols = ["run_id", "row", "replicate", "seed", "status"] + [o.name for o in exp.outcomes]
    a = load_results(tmp_path / "serial").runs[cols]
    for other in ("pool", "dask", "remote"):
        pd.testing.assert_frame_equal(a, load_results(tmp_path / other).runs[cols])


def _wait_for(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_a_running_status_whose_runner_is_gone_reads_stopped():
    import platform

    from ioc_sim.experiments.results import ExperimentResults

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # reaped: its pid names no process now

    def status(**session) -> str:
        manifest = {
            "status": "running",
            "sessions": [{"started": "2026-01-01T00:00:00", **session}],
        }
        return ExperimentResults(Path("."), manifest, pd.DataFrame(), pd.DataFrame(), None).status

    here = platform.node()
    assert (
        status(host=here, pid=gone.pid) == "stopped (runner gone; last write at "
        "2026-01-01T00:00:00)"
    )
    assert status(host=here, pid=gone.pid, last_write="2026-01-01T00:05:00").endswith(
        "last write at 2026-01-01T00:05:00)"
    )
    assert status(host=here, pid=os.getpid()) == "running"  # this process is alive
    assert status(host=here + "-elsewhere", pid=gone.pid) == "running"  # can't check there
    assert status() == "running"  # manifests written before hosts and pids were kept


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_kill_9_and_ctrl_c_then_rerun_finishes_without_loss_or_repeats(tmp_path, workers):
    # Long enough (several seconds at the compiled core's speed) that both interruptions
    # land while runs remain; a run that finishes first has nothing left to interrupt.
    path = write(tmp_path, small("latin", "n = 1000", replicates=3, months=120))
    exp = load_experiment(path)
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "ioc_sim",
        "experiment",
        "run",
        str(path),
        "--out",
        str(out),
        "--workers",
        workers,
        "--quiet",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    def parts() -> int:
        return len(list((out / "runs").glob("part-*.parquet")))

    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stderr=subprocess.PIPE)
    assert _wait_for(lambda: parts() >= 1, 60), "no part written"
    children = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # Pool workers notice their parent is gone and exit rather than wait forever.
    assert _wait_for(lambda: not any(_alive(c) for c in children), 10), "orphaned workers"
    # Killed, the runner could not say so; the first reader sees that it is gone, and
    # records it in the manifest for every later one.
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    first = load_results(out)
    assert 0 < len(first.runs) < exp.n_runs
    assert first.status.startswith("stopped (runner gone; last write at 20"), first.status
    assert json.loads((out / "manifest.json").read_text())["status"] == first.status
    shown = subprocess.run(
        [sys.executable, "-m", "ioc_sim", "experiment", "show", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "status      stopped (runner gone" in shown.stdout, shown.stdout

    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    n0 = parts()
    assert _wait_for(lambda: parts() > n0, 60)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "re-run the same command to finish" in err and "Traceback" not in err, err
    second = load_results(out)
    assert second.manifest["status"] == "interrupted"
    assert len(second.runs) > len(first.runs)

    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    ids = pd.concat(pd.read_parquet(p) for p in (out / "runs").glob("part-*.parquet"))["run_id"]
    assert sorted(ids) == list(range(exp.n_runs)), "a run was lost or repeated"
    final = load_results(out)
    assert final.manifest["status"] == "complete" and len(final.manifest["sessions"]) == 3
    # The same numbers as the runs replayed alone.
    for _, r in final.runs.sample(10, random_state=1).iterrows():
        alone = exp.replay(int(r["run_id"])).run().model_dataframe()
        assert r["final_trust"] == alone["trust"].iloc[-1]
    json.loads((out / "manifest.json").read_text())
