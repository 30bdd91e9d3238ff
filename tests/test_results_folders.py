"""Results folders under faults: two writers, kills, stale output, reading, analysis.

One writer at a time holds a folder (``ioc_sim.experiments.folders``); a second
one is refused naming the holder, or waits; part names never collide even
without the lock; a manifest left saying ``running`` by a killed runner is put
right by the next reader; a run does not leave an earlier run's files behind;
the folder reads as Parquet; and the analysis of a folder is the same every time.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from ioc_sim.cli.main import main
from ioc_sim.experiments.execution import run_experiment
from ioc_sim.experiments.results import ResultsWriter, load_results
from ioc_sim.experiments.sensitivity import analyse
from ioc_sim.experiments.spec import load_experiment
from ioc_sim.experiments.tasks import make_tasks, run_task

OUTCOMES = """
[outcomes]
final_trust = { metric = "trust", reduce = "final" }
mean_perf = { metric = "organisational_performance", reduce = "mean" }
dissolved = { reduce = "dissolved_share" }
"""


def experiment(tmp_path: Path, design: str, *, replicates=2, months=6, orgs=6, factors="") -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(
        f'[experiment]\nname = "faults"\nscenario = "default"\nseed = 11\n'
        f"replicates = {replicates}\nmonths = {months}\n\n[fixed]\nn_organisations = {orgs}\n\n"
        f"[design]\n{design}\n\n{factors}\n{OUTCOMES}"
    )
    return path


COMPARE = (
    'method = "compare"\nscenarios = [{ name = "a", set = { form = "clinical_network" } }, '
    '{ name = "b", set = { form = "buddying" } }, { name = "c", set = { form = "alliance" } }]'
)
FACTORS = "[factors]\ntrust_gain = {}\ndissolve_patience = {}\nshared_vision = {}\n"
HOLDER_NAME = ".writer.json"  # who holds a folder's lock
OUTCOME_COLUMNS = ["run_id", "row", "replicate", "seed", "status", "final_trust", "mean_perf"]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ioc_sim", *args]


def parts(folder: Path) -> pd.DataFrame:
    """Every record of every part, as written (no run's later record preferred)."""
    files = sorted((folder / "runs").glob("part-*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)


def _wait_for(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _reaped_pid() -> int:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # reaped: its pid names no process now
    return gone.pid


# ------------------------------------------------------------------ two writers
@pytest.mark.slow
def test_two_writers_at_once_record_every_run_exactly_once_as_one_writer_would(tmp_path):
    # Long enough (about ten seconds here) that the two runners overlap.
    path = experiment(tmp_path, COMPARE, replicates=1200, months=120, orgs=60)
    exp = load_experiment(path)
    single = run_experiment(exp, tmp_path / "single", show_progress=False)
    assert single["finished"] == exp.n_runs
    out = tmp_path / "shared"
    cmd = cli("experiment", "run", str(path), "--out", str(out), "--workers", "1", "--quiet")
    # Started together, each asked to wait for the other: one runs everything, the other
    # then finds nothing left.
    procs = [
        subprocess.Popen(cmd + ["--wait"], stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    errs = [p.communicate(timeout=600)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    assert sum("ioc-sim: waiting for pid" in e for e in errs) == 1, errs
    records = parts(out)
    assert sorted(records["run_id"]) == list(range(exp.n_runs)), "a run is missing or repeated"
    pd.testing.assert_frame_equal(
        load_results(out).runs[OUTCOME_COLUMNS],
        load_results(tmp_path / "single").runs[OUTCOME_COLUMNS],
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["sessions"]) == 2
    assert [s["already_finished"] for s in manifest["sessions"]] == [0, exp.n_runs]

    # Without --wait, the second runner is refused at once, naming the first (which is
    # then stopped with Ctrl-C: small tasks, so that it stops soon).
    again = tmp_path / "again"
    argv = cli("experiment", "run", str(path), "--out", str(again), "--workers", "1", "--quiet")
    first = subprocess.Popen([*argv, "--chunk", "20"], stderr=subprocess.PIPE, text=True)
    assert _wait_for(lambda: (again / HOLDER_NAME).exists(), 60), "the first runner never started"
    second = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    first.send_signal(signal.SIGINT)
    first.communicate(timeout=120)
    assert (first.returncode, second.returncode) == (130, 2), second.stderr
    line = second.stderr.strip().splitlines()[-1]
    assert line.startswith(f"ioc-sim: error: --out: {again} is being written by pid {first.pid} ")
    assert f"on host {platform.node()}, started 20" in line and "add --wait" in line
    assert json.loads((again / "manifest.json").read_text())["status"] == "interrupted"


def folder_lock(folder: Path):
    """The folder's lock (imported here, so the module loads on code from before it)."""
    from ioc_sim.experiments.folders import FolderLock

    return FolderLock(folder)


def hold(folder: Path, seconds: float) -> subprocess.Popen:
    """Another process that takes the folder's lock, holds it ``seconds``, and ends."""
    code = (
        "import time; from pathlib import Path; "
        "from ioc_sim.experiments.folders import FolderLock; "
        f"lock = FolderLock(Path({str(folder)!r})).acquire(); print('held', flush=True); "
        f"time.sleep({seconds})"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_is_refused_or_waits_and_the_holder_is_named(tmp_path, capsys):
    path = experiment(tmp_path, COMPARE)
    out = tmp_path / "out"
    out.mkdir()
    holder = hold(out, 120)
    try:
        for argv in (
            ["experiment", "run", str(path), "--out", str(out), "--workers", "1", "--quiet"],
            ["run", "default", "--months", "2", "--quiet", "--out", str(out)],
        ):
            assert main(argv) == 2
            err = capsys.readouterr().err.strip().splitlines()[-1]
            assert f"is being written by pid {holder.pid} on host {platform.node()}" in err
            assert "add --wait" in err
        assert not (out / "manifest.json").exists()  # nothing written by the refused ones
    finally:
        holder.kill()
        holder.wait()

    # --wait: the second writer starts when the first is done.
    holder = hold(out, 2)
    argv = ["experiment", "run", str(path), "--out", str(out), "--workers", "1", "--quiet"]
    assert main([*argv, "--wait"]) == 0
    assert f"ioc-sim: waiting for pid {holder.pid}" in capsys.readouterr().err
    assert holder.wait() == 0
    assert load_results(out).manifest["status"] == "complete"


def test_the_lock_of_a_killed_writer_is_free_at_once(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    proc = hold(out, 120)
    assert not folder_lock(out).try_acquire()
    note = json.loads((out / HOLDER_NAME).read_text())
    assert note["pid"] == proc.pid
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # The operating system dropped the lock with its holder: no stale lock to break, and
    # the note it left is replaced by the next holder's.
    assert json.loads((out / HOLDER_NAME).read_text())["pid"] == proc.pid
    lock = folder_lock(out).acquire()
    try:
        assert json.loads((out / HOLDER_NAME).read_text())["pid"] == os.getpid()
    finally:
        lock.release()
    assert not (out / HOLDER_NAME).exists()


def test_part_names_never_collide_even_without_the_lock(tmp_path, monkeypatch, capsys):
    """Two writers in one folder on a file system that cannot lock: each writes its own
    parts (held at the moment of renaming until both are ready), and no record is lost."""
    import filelock

    class NoLocks:  # what filelock does where the file system has no locks
        def __init__(self, *args, **kwargs):
            pass

        def acquire(self, *args, **kwargs):
            raise NotImplementedError("FileSystem does not appear to support flock")

        def release(self, *args, **kwargs):
            pass

    monkeypatch.setattr(filelock, "FileLock", NoLocks)
    exp = load_experiment(experiment(tmp_path, COMPARE))
    results = [run_task(t) for t in make_tasks(exp, set())]
    out = tmp_path / "out"
    writers = [ResultsWriter(out, exp, flush_runs=10**6) for _ in range(2)]
    for w in writers:
        getattr(w, "begin", lambda: None)()  # (a step of its own since writers lock)
    ready = threading.Barrier(2, timeout=30)
    real_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        if Path(dst).name.startswith("part-"):
            ready.wait()  # both parts written, neither renamed yet
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    errors = []

    def write(w: ResultsWriter) -> None:
        try:
            for r in results:
                w.add(r)
            w.flush()
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=write, args=(w,)) for w in writers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    monkeypatch.setattr(os, "replace", real_replace)
    assert not errors, errors
    for w in writers:
        w.close()
    assert "cannot lock files; going on without the lock" in capsys.readouterr().err
    names = sorted(p.name for p in (out / "runs").glob("part-*.parquet"))
    assert len(names) == 2, names
    records = parts(out)
    assert sorted(records["run_id"]) == sorted(list(range(exp.n_runs)) * 2)  # both kept
    single = run_experiment(exp, tmp_path / "single", show_progress=False)
    assert single["finished"] == exp.n_runs
    pd.testing.assert_frame_equal(
        load_results(out).runs[OUTCOME_COLUMNS],
        load_results(tmp_path / "single").runs[OUTCOME_COLUMNS],
    )


# ------------------------------------------------------------ the truth after a kill
def test_an_experiment_manifest_left_running_is_put_right_by_the_next_reader(tmp_path, capsys):
    exp = load_experiment(experiment(tmp_path, COMPARE))
    out = tmp_path / "out"
    run_experiment(exp, out, show_progress=False)
    # As a runner killed with kill -9 leaves it: its session says running, and it is gone.
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["status"] = "running"
    manifest["ended"] = None
    session = manifest["sessions"][-1]
    session.pop("ended")
    session.update(pid=_reaped_pid(), host=platform.node(), last_write="2026-01-01T00:05:00")
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert main(["experiment", "show", str(out)]) == 0
    assert "status      stopped (runner gone; last write at 2026-01-01T00:05:00)" in (
        capsys.readouterr().out
    )
    written = json.loads((out / "manifest.json").read_text())
    assert written["status"] == "stopped (runner gone; last write at 2026-01-01T00:05:00)"
    assert written["sessions"][-1]["gone_noticed"].startswith("20")
    # A runner that is alive (this process, holding the folder) is left alone.
    manifest["sessions"][-1]["pid"] = os.getpid()
    manifest["sessions"][-1]["locked"] = True
    (out / "manifest.json").write_text(json.dumps(manifest))
    with folder_lock(out):
        assert load_results(out).status == "running"
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    # Once it lets go without a word, the lock being free says it is gone.
    assert load_results(out).status.startswith("stopped (runner gone")


def test_a_run_killed_mid_way_is_recorded_as_stopped_when_its_folder_is_next_opened(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        cli("run", "default", "--replicates", "2000", "--quiet", "--no-figure", "--out", str(out)),
        stderr=subprocess.DEVNULL,
    )

    def started() -> bool:
        try:
            return json.loads((out / "manifest.json").read_text())["finished_replicates"] >= 1
        except (OSError, ValueError, KeyError):
            return False

    assert _wait_for(started, 120), "no replicate finished"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    shown = subprocess.run(
        cli("experiment", "show", str(out)), capture_output=True, text=True, timeout=120
    )
    assert shown.returncode == 0, shown.stderr
    assert "status      stopped (runner gone; last write at 20" in shown.stdout
    assert json.loads((out / "manifest.json").read_text())["status"].startswith(
        "stopped (runner gone; last write at 20"
    )
    again = subprocess.run(
        cli("run", "default", "--months", "2", "--out", str(out)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 2
    assert "already holds a run of 'default' (stopped (runner gone" in again.stderr


# ------------------------------------------------------------------ stale output
def test_a_run_into_a_used_folder_is_refused_or_replaces_everything(tmp_path, capsys):
    out = tmp_path / "d"
    assert (
        main(["run", "default", "--seed", "5", "--months", "3", "--quiet", "--out", str(out)]) == 0
    )
    assert (out / "trajectories.png").exists()
    second = ["run", "default", "--seed", "9", "--months", "3", "--no-figure", "--quiet"]
    assert main([*second, "--out", str(out)]) == 2
    assert "already holds a run of 'default' (complete); allowed: another folder, or --force" in (
        capsys.readouterr().err
    )
    assert json.loads((out / "manifest.json").read_text())["root_seed"] == 5  # untouched
    assert main([*second, "--out", str(out), "--force"]) == 0
    assert json.loads((out / "manifest.json").read_text())["root_seed"] == 9
    assert not (out / "trajectories.png").exists()  # seed 5's figure is gone
    ts = pd.read_csv(out / "timeseries.csv")
    assert set(ts["seed"]) == set(
        json.loads((out / "manifest.json").read_text())["replicate_seeds"]
    )


# ------------------------------------------------------------------ reading
def test_the_runs_of_a_folder_read_as_one_parquet_dataset(tmp_path, monkeypatch):
    import ioc_sim.experiments.tasks as tasks

    exp = load_experiment(experiment(tmp_path, COMPARE))
    out = tmp_path / "out"
    real = tasks._run_batch

    def flaky(task, seeds):
        if task.row == 1:
            raise ValueError("no luck in row 1")
        return real(task, seeds)

    monkeypatch.setattr(tasks, "_run_batch", flaky)
    run_experiment(exp, out, show_progress=False)  # a part with failed runs
    monkeypatch.setattr(tasks, "_run_batch", real)
    run_experiment(exp, out, show_progress=False, retry_failed=True)  # a part without
    # The whole folder is not one table (it holds the manifest, the design, the analysis):
    # its runs are, and its kept series.
    records = pd.read_parquet(out / "runs")
    assert len(records) == exp.n_runs + exp.replicates  # row 1 twice: failed, then ok
    assert records["error"].notna().sum() == exp.replicates
    res = load_results(out)  # the latest record of each run
    assert list(res.runs["run_id"]) == list(range(exp.n_runs)) and res.failed.empty


def test_an_older_folder_with_numbered_parts_is_read_and_resumed(tmp_path):
    exp = load_experiment(experiment(tmp_path, COMPARE))
    out = tmp_path / "old"
    run_experiment(exp, out, show_progress=False)
    # As folders were written before parts were named per writer: part-NNNNNN, a run
    # missing, and no lock file.
    (part,) = (out / "runs").glob("part-*.parquet")
    pd.read_parquet(part).query("run_id != 3").to_parquet(out / "runs/part-000001.parquet")
    part.unlink()
    (out / ".lock").unlink()
    manifest = run_experiment(exp, out, show_progress=False)
    assert manifest["finished"] == exp.n_runs
    names = sorted(p.name for p in (out / "runs").glob("part-*.parquet"))
    assert names[0] == "part-000001.parquet" and names[1].startswith("part-s0002-")
    assert sorted(parts(out)["run_id"]) == list(range(exp.n_runs))


# ------------------------------------------------------------------ analysis
@pytest.mark.parametrize(
    ("design", "table"),
    [('method = "sobol"\nn = 16', "sobol"), ('method = "fast"\nn = 80', "fast")],
)
def test_the_same_folder_always_gives_the_same_analysis(tmp_path, design, table):
    out = tmp_path / "out"
    run_experiment(
        load_experiment(experiment(tmp_path, design, factors=FACTORS)), out, show_progress=False
    )
    first = analyse(out, figures=False).tables
    shutil.rmtree(out / "analysis")
    second = analyse(out, figures=False).tables
    for name in {table, "sobol_convergence"} & set(first):
        # The bootstrap intervals too: they come from a seed derived from the root seed.
        pd.testing.assert_frame_equal(first[name], second[name])
    assert first[table]["ST_conf"].notna().any()


def test_a_summary_says_when_every_scenario_is_equal(tmp_path, capsys):
    out = tmp_path / "out"
    run_experiment(load_experiment(experiment(tmp_path, COMPARE)), out, show_progress=False)
    assert main(["experiment", "analyse", str(out), "--no-figures"]) == 0
    summary = (out / "analysis/summary.md").read_text()
    dissolved = next(line for line in summary.splitlines() if line.startswith("- **dissolved**"))
    assert "the same in every scenario (0)" in dissolved and "highest" not in dissolved
    trust = next(line for line in summary.splitlines() if line.startswith("- **final_trust**"))
    assert "highest in " in trust and ", then " in trust


def test_second_order_is_refused_for_a_design_without_sobol_indices(tmp_path, capsys):
    out = tmp_path / "out"
    run_experiment(load_experiment(experiment(tmp_path, COMPARE)), out, show_progress=False)
    assert main(["experiment", "analyse", str(out), "--second-order"]) == 2
    err = capsys.readouterr().err
    assert "second-order indices are Sobol' indices, and a compare design has none" in err
    assert not (out / "analysis").exists()  # refused before anything was written


def test_an_analysis_folder_that_cannot_be_written_is_named(tmp_path, capsys):
    if shutil.which("chattr") is None:
        pytest.skip("needs chattr")
    out = tmp_path / "out"
    run_experiment(load_experiment(experiment(tmp_path, COMPARE)), out, show_progress=False)
    (out / "analysis").mkdir()
    if subprocess.run(["chattr", "+i", str(out / "analysis")], capture_output=True).returncode:
        pytest.skip("cannot make a folder immutable here")
    try:
        assert main(["experiment", "analyse", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert err == (
            f"ioc-sim: error: analysis: cannot write to {out / 'analysis'} (Operation not "
            "permitted); allowed: a folder you can write to"
        )
    finally:
        subprocess.run(["chattr", "-i", str(out / "analysis")], check=True)


# ------------------------------------------------------------------ schedulers
def test_a_bad_scheduler_leaves_no_results_folder(tmp_path, capsys):
    path = experiment(tmp_path, COMPARE)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_:
        main(["experiment", "run", str(path), "--scheduler", "notanaddress", "--out", str(out)])
    assert exit_.value.code == 2
    assert "got 'notanaddress'" in capsys.readouterr().err
    t0 = time.monotonic()
    unreachable = ["--scheduler", "tcp://127.0.0.1:1", "--connect-timeout", "1"]
    assert main(["experiment", "run", str(path), *unreachable, "--out", str(out)]) == 2
    assert time.monotonic() - t0 < 20  # the timeout asked for, not Dask's 30 s
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(
        "ioc-sim: error: --scheduler: cannot reach a Dask scheduler at tcp://127.0.0.1:1 within 1 s"
    )
    assert not out.exists()
    # A folder with runs still to do is left as it was.
    run_experiment(load_experiment(path), out, show_progress=False)
    (part,) = (out / "runs").glob("part-*.parquet")
    pd.read_parquet(part).query("run_id < 2").to_parquet(part)
    before = (out / "manifest.json").read_text()
    assert main(["experiment", "run", str(path), *unreachable, "--out", str(out)]) == 2
    assert (out / "manifest.json").read_text() == before
