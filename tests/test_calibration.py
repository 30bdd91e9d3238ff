"""Calibration: files, the ABC-SMC run and its outputs, determinism and resuming, the
parameter-recovery self-test, parameter sets, and runs over posterior draws."""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pandas as pd
import pytest

from ioc_sim.calibration import load_calibration, load_posterior
from ioc_sim.calibration.posterior import posterior_draws, weighted_quantile, write_posterior
from ioc_sim.cli.main import main
from ioc_sim.errors import ConfigError
from ioc_sim.validation import resolve_patterns_path

pytest.importorskip("pyabc")

LITERATURE = resolve_patterns_path(None).read_text(encoding="utf-8")


def _patterns_file(tmp_path, ids=("P5", "P10")):
    """A patterns file holding some of the literature's patterns."""
    blocks = LITERATURE.split("[[pattern]]\n")[1:]
    kept = [b for b in blocks if any(f'id = "{i}"\n' in b for i in ids)]
    path = tmp_path / "some.toml"
    path.write_text("".join("[[pattern]]\n" + b for b in kept), encoding="utf-8")
    return path


def _calibration(tmp_path, **head):
    patterns = _patterns_file(tmp_path)
    values = {
        "population": 12,
        "prior_sample": 12,
        "generations": 2,
        "replicates": 4,
        "predictive_draws": 3,
        "seed": 7,
        **head,
    }
    lines = ["[calibration]", 'name = "tiny"', f'patterns = ["{patterns}"]']
    lines += [f"{k} = {v}" for k, v in values.items()]
    lines += ["[priors]", 'parameters = ["trust_asymmetry", "shock_boost"]']
    # Narrow enough that P5 often fails, so that epsilon stays above 0 for a while.
    lines += ["[priors.bounds]", "trust_asymmetry = { low = 1.0, high = 2.5 }"]
    path = tmp_path / "tiny.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A small calibration, run once in-process."""
    d = tmp_path_factory.mktemp("cal")
    cal = _calibration(d)
    out = d / "out"
    assert main(["calibrate", str(cal), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    return cal, out


def test_bundled_calibration_loads():
    cal = load_calibration()
    assert cal.name == "literature" and cal.patterns == ("literature",)
    assert cal.parameters is None and cal.screening == "morris_all"


@pytest.mark.parametrize(
    "text, field",
    [
        ("[calibration]\npopulation = 3\n", "calibration.population"),
        ("[calibration]\nseeds = 3\n", "calibration.seeds"),
        ("[calibration]\nmin_acceptance = 2\n", "calibration.min_acceptance"),
        ('[priors]\nparameters = ["trust_gian"]\n', "priors.parameters[0].trust_gian"),
        ('[priors]\nparameters = ["trust_update"]\n', "priors.parameters[0]"),
        ('[priors]\nparameters = ["trust_gain"]\nthreshold = 0.2\n', "priors.parameters"),
        ("[priors.bounds]\ntrust_gain = { low = 0.5, high = 0.1 }\n", "priors.bounds.trust_gain"),
        ("[priors.bounds]\ntrust_gain = { low = -5 }\n", "priors.bounds.trust_gain.low"),
        ("[calibraton]\n", "calibraton"),
    ],
)
def test_bad_calibration_file_gives_one_line_error(tmp_path, capsys, text, field):
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_calibration(bad)
    assert err.value.field.startswith(field), str(err.value)
    assert main(["calibrate", str(bad), "--out", str(tmp_path / "out")]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and str(bad) in line and field in line and "allowed" in line, line


def test_a_bad_patterns_file_of_a_calibration_is_named(tmp_path, capsys):
    cal = _calibration(tmp_path)
    (tmp_path / "some.toml").write_text('[[pattern]]\nid = "X"\n', encoding="utf-8")
    assert main(["calibrate", str(cal), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    line = capsys.readouterr().err.strip()
    assert "calibration.patterns" in line and "some.toml" in line and "\n" not in line


def test_calibration_writes_every_output(tiny):
    cal, out = tiny
    for name in (
        "populations.parquet",
        "generations.csv",
        "posterior.parquet",
        "parameter_set.toml",
        "identification.csv",
        "predictive.csv",
        "summary.md",
        "marginals.png",
        "pairs.png",
        "generations.png",
        "calibration.json",
        "history.db",
    ):
        assert (out / name).exists(), name
    pops = pd.read_parquet(out / "populations.parquet")
    gens = pd.read_csv(out / "generations.csv")
    assert list(gens["generation"]) == [0, 1] and set(pops["generation"]) == {0, 1}
    assert (gens["accepted"] == 12).all() and (gens["simulations"] >= 12).all()
    assert gens["epsilon"].is_monotonic_decreasing
    assert {"trust_asymmetry", "shock_boost", "weight", "distance", "miss:P5:0"} <= set(pops)
    post = load_posterior(out)
    assert post.names == ["trust_asymmetry", "shock_boost"]
    assert post.weights.sum() == pytest.approx(1.0)
    assert post.provenance["seed"] == 7 and post.provenance["patterns"][0]["sha256"]
    ident = pd.read_csv(out / "identification.csv")
    assert set(ident["verdict"]) <= {"identified", "constrained", "left at its prior"}
    pred = pd.read_csv(out / "predictive.csv")
    assert list(pred["pattern"]) == ["P5", "P10", "all"] and (pred["draws"] == 3).all()
    assert pred["posterior_share"].between(0, 1).all()
    ps = tomllib.loads((out / "parameter_set.toml").read_text(encoding="utf-8"))
    assert set(ps["parameters"]) == {"trust_asymmetry", "shock_boost"}
    assert ps["parameter_set"]["seed"] == 7 and ps["parameter_set"]["commit"]


def test_same_seed_same_posterior_on_one_worker_or_two(tiny, tmp_path):
    """The posterior is a function of the seed alone: a second run, on two worker
    processes, gives the same populations bit for bit."""
    cal, out = tiny
    again = tmp_path / "again"
    assert main(["calibrate", str(cal), "--out", str(again), "--workers", "2", "--quiet"]) == 0
    a = pd.read_parquet(out / "populations.parquet")
    b = pd.read_parquet(again / "populations.parquet")
    pd.testing.assert_frame_equal(a, b)
    (tmp_path / "o").mkdir()
    other = _calibration(tmp_path / "o", seed=8)
    assert (
        main(["calibrate", str(other), "--out", str(tmp_path / "o8"), "--workers", "1", "--quiet"])
        == 0
    )
    c = pd.read_parquet(tmp_path / "o8" / "populations.parquet")
    assert not np.array_equal(a["trust_asymmetry"], c["trust_asymmetry"])


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_posterior(tiny, tmp_path):
    """--scheduler local:2 runs the candidates on a Dask cluster: the same populations."""
    cal, out = tiny
    dask = tmp_path / "dask"
    assert (
        main(["calibrate", str(cal), "--out", str(dask), "--scheduler", "local:2", "--quiet"]) == 0
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "populations.parquet"), pd.read_parquet(dask / "populations.parquet")
    )


def test_a_stopped_calibration_resumes_where_it_stopped(tiny, tmp_path, monkeypatch):
    """Stopped in its second generation (as by Ctrl-C or a crash), the calibration keeps
    its first generation in pyabc's history, and re-running the command finishes with
    the populations of an uninterrupted run."""
    import cloudpickle

    import ioc_sim.calibration.sampler as sampler

    cal, out = tiny
    real = sampler.OrderedSampler.sample_until_n_accepted

    def stops(self, n, simulate_one, t, **kwargs):
        if t == 1:  # a candidate into the second generation
            sampler.evaluate(cloudpickle.dumps(simulate_one), [sampler.candidate_seed(1, t, 0)])
            raise KeyboardInterrupt
        return real(self, n, simulate_one, t, **kwargs)

    monkeypatch.setattr(sampler.OrderedSampler, "sample_until_n_accepted", stops)
    stopped = tmp_path / "stopped"
    args = ["calibrate", str(cal), "--out", str(stopped), "--workers", "1", "--quiet"]
    assert main(args) == 130
    import pyabc

    assert pyabc.History(f"sqlite:///{stopped / 'history.db'}").max_t == 0
    monkeypatch.setattr(sampler.OrderedSampler, "sample_until_n_accepted", real)
    assert main(args) == 0
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "populations.parquet"),
        pd.read_parquet(stopped / "populations.parquet"),
    )


def test_a_larger_budget_goes_on_from_the_generations_stored(tiny, tmp_path):
    """Run with one generation, then with two in the same folder: the first generation is
    kept, and the result is the two-generation calibration run at once."""
    cal, out = tiny
    text = cal.read_text(encoding="utf-8")
    one = tmp_path / "one.toml"
    one.write_text(text.replace("generations = 2", "generations = 1"), encoding="utf-8")
    (tmp_path / "some.toml").write_text(
        (cal.parent / "some.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    folder = tmp_path / "grown"
    assert main(["calibrate", str(one), "--out", str(folder), "--workers", "1", "--quiet"]) == 0
    assert len(pd.read_csv(folder / "generations.csv")) == 1
    assert main(["calibrate", str(cal), "--out", str(folder), "--workers", "1", "--quiet"]) == 0
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "populations.parquet"),
        pd.read_parquet(folder / "populations.parquet"),
    )


def test_another_calibration_in_the_same_folder_is_refused(tiny, tmp_path, capsys):
    cal, out = tiny
    other = _calibration(tmp_path, seed=9)
    assert main(["calibrate", str(other), "--out", str(out), "--quiet"]) == 2
    assert "holds another calibration" in capsys.readouterr().err


def test_distance_weighs_each_pattern_once():
    from ioc_sim.calibration.distance import PatternDistance
    from ioc_sim.validation import bundled

    ps = [p for p in bundled() if p.id in ("P5", "P6")]  # one criterion, and two
    keys = ["miss:P5:0", "miss:P6:0", "miss:P6:1"]
    d = PatternDistance(keys, ps, "unused.json")
    d.fit(np.array([[1.0, 0.1, 0.0], [3.0, 0.3, 0.0], [np.nan, 0.2, 0.0]]))
    assert d.weights.tolist() == [1.0, 0.5, 0.5]
    assert d.scales[0] == 2.0 and d.scales[1] == pytest.approx(0.2)  # medians of the misses
    assert d.scales[2] == 1.0  # no prior draw misses it, and its bound is a statistic
    assert d({k: 0.0 for k in keys}, {}) == 0.0
    x = {"miss:P5:0": 2.0, "miss:P6:0": 0.2, "miss:P6:1": 0.0}
    assert d(x, {}) == pytest.approx(1.0 + 0.5)
    assert d({**x, "miss:P5:0": math.nan}, {}) == pytest.approx(1.5 + 0.5)  # the worst, 3


def test_screening_chooses_numeric_assumptions_that_matter(tmp_path):
    """Read from an existing Morris result: mechanism assumptions of numeric kind whose
    mu* reaches the threshold share of an outcome's largest, at most max_parameters,
    best first."""
    from ioc_sim.calibration.screening import screen
    from ioc_sim.calibration.spec import parse_calibration

    (tmp_path / "m" / "analysis").mkdir(parents=True)
    pd.DataFrame(
        {
            "outcome": ["a"] * 5 + ["b"] * 2 + ["c"],
            "factor": [
                "trust_gain",
                "outcome_noise",
                "trust_update",
                "shared_vision",
                "breach_signal",
                "breach_signal",
                "results_noise",
                "distressed_share",
            ],
            "mu": 0.0,
            "mu_star": [1.0, 0.5, 0.9, 0.8, 0.1, 2.0, 0.5, 3.0],
            "mu_star_conf": 0.0,
            "sigma": 0.0,
        }
    ).to_csv(tmp_path / "m" / "analysis" / "morris.csv", index=False)
    data = {
        "priors": {"screening_results": str(tmp_path / "m"), "threshold": 0.3, "max_parameters": 2}
    }
    names, table, source = screen(parse_calibration(data, "x"), tmp_path, show_progress=False)
    # trust_update is categorical, shared_vision is stated; breach_signal leads outcome b
    assert names == ["trust_gain", "breach_signal"]  # each leads an outcome; then 2 at most
    assert "read from the Morris screening" in source
    assert table.set_index("parameter").loc["outcome_noise", "chosen"] == False  # noqa: E712
    # distressed_share leads outcome c, but it describes a system, not a mechanism
    row = table.set_index("parameter").loc["distressed_share"]
    assert row["group"] == "population" and row["chosen"] == False  # noqa: E712
    data["priors"]["max_parameters"] = 3  # room for it, and still not chosen
    names, _, _ = screen(parse_calibration(data, "x"), tmp_path, show_progress=False)
    assert names == ["trust_gain", "breach_signal", "outcome_noise"]
    data["priors"]["include"] = ["distressed_share"]  # unless named
    names, _, _ = screen(parse_calibration(data, "x"), tmp_path, show_progress=False)
    assert names == ["trust_gain", "breach_signal", "outcome_noise", "distressed_share"]


def test_posterior_draws_are_weighted_and_repeatable():
    from ioc_sim.calibration.posterior import Posterior

    post = Posterior(pd.DataFrame({"trust_gain": [0.01, 0.05, 0.09]}), np.array([0.0, 1.0, 0.0]))
    d = posterior_draws(post, 20, seed=3)
    assert (d["trust_gain"] == 0.05).all()
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0]), 0.5) == 2.0
    post2 = Posterior(pd.DataFrame({"trust_gain": [0.01, 0.05]}), np.array([0.5, 0.5]))
    assert posterior_draws(post2, 30, 4).equals(posterior_draws(post2, 30, 4))


@pytest.mark.slow
def test_selftest_recovers_known_parameters(tmp_path):
    """Statistics simulated at known values of three parameters are fitted back: each
    value lies within its 90% posterior interval, which is much narrower than the prior."""
    from ioc_sim.calibration.selftest import TRUTH, selftest

    ok, table = selftest(tmp_path / "st", workers=2, show_progress=False)
    assert ok, table.to_string()
    assert set(table["parameter"]) == set(TRUTH) and (table["contraction"] >= 0.5).all()


# ---------------------------------------------------------------- using the posterior
def _posterior(tmp_path):
    path = tmp_path / "posterior.parquet"
    particles = pd.DataFrame({"trust_gain": [0.02, 0.04, 0.06], "shock_boost": [0.2, 0.4, 0.6]})
    write_posterior(
        path,
        particles,
        np.array([0.2, 0.3, 0.5]),
        {"calibration": "made", "seed": 1, "patterns": []},
    )
    return path


def test_run_over_posterior_draws_reports_bands_and_paired_differences(tmp_path, capsys):
    post = _posterior(tmp_path)
    out = tmp_path / "run"
    args = [
        "run",
        "default",
        "--posterior",
        str(post),
        "--draws",
        "4",
        "--replicates",
        "2",
        "--months",
        "12",
        "--compare",
        "provider_collaborative",
        "--workers",
        "1",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "median [90% interval] over 4 posterior draws" in text
    assert "provider_collaborative - default" in text
    for name in (
        "draws.csv",
        "summary.csv",
        "differences.csv",
        "trajectories.csv",
        "trajectories.png",
        "manifest.json",
    ):
        assert (out / name).exists(), name
    bands = pd.read_csv(out / "trajectories.csv")
    assert (bands["q05"] <= bands["median"] + 1e-12).all()
    assert (bands["median"] <= bands["q95"] + 1e-12).all()
    diffs = pd.read_csv(out / "differences.csv")
    assert set(diffs["arm"]) == {"provider_collaborative"} and len(diffs) == len(
        set(diffs["outcome"])
    )
    # the same draws, the same numbers
    assert main([*args[:-1], str(tmp_path / "again"), "--quiet"]) == 0
    again = pd.read_csv(tmp_path / "again" / "trajectories.csv")
    pd.testing.assert_frame_equal(bands, again)


def test_a_difference_of_an_arm_with_itself_is_exactly_zero(tmp_path):
    """Arms share draws and seeds: the same scenario twice differs by nothing."""
    from ioc_sim.calibration.bands import run_posterior
    from ioc_sim.experiments.scenarios import load_scenario

    sc = load_scenario("default")
    _, _, diffs = run_posterior(
        sc,
        load_posterior(_posterior(tmp_path)),
        3,
        compare=[sc],
        months=6,
        replicates=2,
        out=tmp_path / "r",
        show_progress=False,
        figure=False,
    )
    assert (diffs[["median", "q05", "q95"]] == 0).all().all()


def test_a_posterior_run_keeps_to_the_rules_of_a_run_folder(tmp_path, capsys):
    """An earlier run in --out, plain or over a posterior, is refused without --force;
    with it, nothing of the earlier run is left (a plain run's tables, or the
    differences of a comparison the new run does not make)."""
    post = _posterior(tmp_path)
    out = tmp_path / "o"
    assert main(["run", "default", "--months", "3", "--no-figure", "--out", str(out)]) == 0
    base = ["run", "default", "--posterior", str(post), "--draws", "2", "--replicates", "2"]
    base += ["--months", "3", "--workers", "1", "--no-figure", "--quiet", "--out", str(out)]
    capsys.readouterr()
    assert main(base) == 2
    err = capsys.readouterr().err.strip()
    assert "already holds a run of 'default'" in err and "--force" in err and "\n" not in err
    assert main([*base, "--compare", "default", "--force"]) == 0
    assert not (out / "timeseries.csv").exists() and (out / "differences.csv").exists()
    assert main(base) == 2
    assert "over a posterior" in capsys.readouterr().err
    assert main([*base, "--force"]) == 0
    assert not (out / "differences.csv").exists() and (out / "draws.csv").exists()


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--draws", "5"], "--draws: needs --posterior"),
        (["--compare", "default"], "--compare: needs --posterior"),
        (["--posterior", "no_such_folder"], "--posterior: no such file"),
        (["--posterior", "README.md"], "cannot be read as Parquet"),
    ],
)
def test_posterior_run_mistakes_are_one_line_errors(tmp_path, capsys, extra, fragment):
    assert main(["run", "default", "--out", str(tmp_path / "o"), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and "\n" not in err


def test_a_scenario_or_experiment_can_name_a_parameter_set(tmp_path, capsys):
    from ioc_sim.experiments.scenarios import load_scenario
    from ioc_sim.experiments.spec import load_experiment

    (tmp_path / "calibrated.toml").write_text(
        '[parameter_set]\nname = "calibrated"\nseed = 1\n\n[parameters]\n'
        "trust_gain = 0.07\nshock_boost = 0.45\n",
        encoding="utf-8",
    )
    (tmp_path / "s.toml").write_text(
        '[scenario]\nname = "s"\nparameter_set = "calibrated.toml"\n\n'
        "[parameters]\nshock_boost = 0.2\n",
        encoding="utf-8",
    )
    sc = load_scenario(tmp_path / "s.toml")
    kw = sc.model_kwargs()
    assert kw["trust_gain"] == 0.07 and kw["shock_boost"] == 0.2  # the scenario's own wins
    assert sc.raw["parameter_set_applied"]["values"]["trust_gain"] == 0.07
    (tmp_path / "e.toml").write_text(
        '[experiment]\nname = "e"\nparameter_set = "calibrated.toml"\nmonths = 6\n'
        '[design]\nmethod = "compare"\nscenarios = ["default", "merger"]\n'
        '[outcomes]\nt = { metric = "trust", reduce = "final" }\n',
        encoding="utf-8",
    )
    exp = load_experiment(tmp_path / "e.toml")
    assert all(exp.row_kwargs(r)["trust_gain"] == 0.07 for r in range(exp.n_rows))
    (tmp_path / "bad.toml").write_text("[parameters]\ntrust_gain = 9\n", encoding="utf-8")
    (tmp_path / "s2.toml").write_text('[scenario]\nparameter_set = "bad.toml"\n', encoding="utf-8")
    assert main(["run", str(tmp_path / "s2.toml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "scenario.parameter_set" in err and "parameters.trust_gain" in err and "allowed" in err


def test_without_pyabc_calibrate_says_how_to_install_it(monkeypatch, capsys):
    import builtins

    real = builtins.__import__

    def no_pyabc(name, *args, **kwargs):
        if name == "pyabc":
            raise ImportError("no pyabc")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyabc)
    assert main(["calibrate", "--quiet"]) == 2
    assert "ioc_sim[calibrate]" in capsys.readouterr().err


def test_a_candidate_leaves_numpys_global_stream_as_it_found_it():
    """pyabc draws from numpy's global stream, so the sampler seeds it per candidate;
    the caller's stream is put back afterwards, and the model's seed is the candidate's
    child, not the next number of that stream."""
    import cloudpickle

    from ioc_sim.calibration import simulator
    from ioc_sim.calibration.sampler import evaluate
    from ioc_sim.calibration.simulator import CANDIDATE_SEED, draw_seed

    def simulate_one():  # what pyabc's does: draw from the global stream, run the model
        return float(np.random.random()), simulator.draw_seed(simulator.CANDIDATE_SEED.get())

    np.random.seed(7)
    expected = np.random.random(3)
    np.random.seed(7)
    out = evaluate(cloudpickle.dumps(simulate_one), [11, 12, 11])
    np.testing.assert_array_equal(np.random.random(3), expected)
    assert out[0] == out[2] != out[1]
    assert out[0][1] == draw_seed(11) != draw_seed(12)
    with pytest.raises(LookupError):
        CANDIDATE_SEED.get()


def test_calibrate_takes_the_runners_scheduler_options(tmp_path, capsys):
    """--connect-timeout bounds the wait for an unreachable scheduler, as for
    experiment run: one line, exit 2, and no folder left behind."""
    out = tmp_path / "cal"
    args = ["calibrate", "--scheduler", "tcp://127.0.0.1:1", "--connect-timeout", "1"]
    assert main([*args, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot reach a Dask scheduler" in err and "\n" not in err
    assert not out.exists()
