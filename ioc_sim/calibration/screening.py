"""Which parameters a calibration fits: a Morris screening of the model's assumptions.

By default a calibration fits the numeric mechanism parameters whose status is
"assumption" and that matter: a Morris elementary-effects screening (SALib, through the
experiment runner: ``experiments/morris_all.toml`` varies every parameter declared
for sensitivity analysis over its bounds) ranks each by mu*, the mean absolute
elementary effect, for each outcome. A parameter matters when its mu* reaches
``threshold`` times the largest for some outcome; the ``max_parameters`` that reach
the most are fitted. Parameters that describe a system rather than a mechanism (the
groups "population", "system" and "collaboration": how many organisations start in
special measures, the competition regime, a form's contexts) are not: they are facts
of whichever system a scenario describes, so a posterior fitted on the patterns'
synthetic systems must not carry values of them into a what-if on another (a
calibration file's ``include`` can still name one). :func:`screen` runs the screening
(or reads an existing results folder) and says which were chosen and why.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ioc_sim.calibration.spec import Calibration
from ioc_sim.errors import ConfigError
from ioc_sim.experiments.executors import CONNECT_TIMEOUT
from ioc_sim.spec.parameters import PARAMETERS


def _morris_table(folder: Path, show_progress: bool) -> pd.DataFrame:
    from ioc_sim.experiments.sensitivity import analyse

    table = folder / "analysis" / "morris.csv"
    if not table.exists():
        analyse(folder, figures=False)
    if not table.exists():
        raise ConfigError(
            "priors.screening",
            f"{folder} holds no Morris analysis; allowed: the results "
            "of an experiment with design method = 'morris'",
        )
    return pd.read_csv(table)


def screening_folder(cal: Calibration, out: Path) -> Path:
    """Where the screening's results are: given, or ``OUT/screening``."""
    return Path(cal.screening_results) if cal.screening_results else out / "screening"


def screen(
    cal: Calibration,
    out: Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    connect_timeout: float = CONNECT_TIMEOUT,
    show_progress: bool = True,
) -> tuple[list[str], pd.DataFrame, str]:
    """The parameters to fit, the screening table behind the choice, and its source.

    With a list of parameters in the file, no screening runs. Otherwise the
    screening experiment runs into ``OUT/screening`` (resuming what is there) unless
    ``screening_results`` names a finished one.

    Returns:
        The parameters (in order of importance), a table with one row per screened
        parameter (its largest normalised mu*, the outcome, status, whether chosen)
        and a sentence saying where the choice came from.
    """
    if cal.parameters is not None:
        names = list(dict.fromkeys([*cal.parameters, *cal.include]))
        names = [n for n in names if n not in cal.exclude]
        return names, pd.DataFrame({"parameter": names, "chosen": True}), "listed in the file"
    folder = screening_folder(cal, out)
    if cal.screening_results:
        if not folder.is_dir():
            raise ConfigError("priors.screening_results", f"{folder} is not a folder")
        source = f"read from the Morris screening in {folder}"
    else:
        from ioc_sim.experiments.execution import run_experiment
        from ioc_sim.experiments.spec import experiment_dir, load_experiment

        ref = Path(cal.screening)
        if not ref.suffix and not ref.is_file():  # a bundled name, whatever the folder holds
            ref = experiment_dir() / f"{cal.screening}.toml"
        try:
            exp = load_experiment(ref if ref.exists() else cal.screening)
        except ConfigError as err:
            raise ConfigError("priors.screening", str(err)) from None
        if exp.method != "morris":
            raise ConfigError(
                "priors.screening",
                f"{cal.screening} has design method "
                f"{exp.method!r}; allowed: an experiment with method = 'morris'",
            )
        run_experiment(
            exp,
            folder,
            workers=workers,
            scheduler=scheduler,
            connect_timeout=connect_timeout,
            show_progress=show_progress,
        )
        source = (
            f"Morris screening `{cal.screening}` ({exp.n_rows} rows x {exp.replicates} "
            f"replicates, seed {exp.root_seed}) run by the experiment runner into {folder}"
        )
    m = _morris_table(folder, show_progress)
    m = m.assign(share=m["mu_star"] / m.groupby("outcome")["mu_star"].transform("max"))
    best = m.sort_values("share", ascending=False).drop_duplicates("factor")
    best = best[best["factor"].isin(PARAMETERS)]
    best = best.assign(
        status=[PARAMETERS[f].status for f in best["factor"]],
        kind=[PARAMETERS[f].kind for f in best["factor"]],
        group=[PARAMETERS[f].group for f in best["factor"]],
    )
    eligible = (
        (best["status"] == "assumption")
        & (best["kind"] == "float")
        & (best["group"] == "mechanism")
        & (best["share"] >= cal.threshold)
        & ~best["factor"].isin(cal.exclude)
    )
    chosen = best.loc[eligible, "factor"].head(cal.max_parameters).tolist()
    chosen = [*chosen, *(n for n in cal.include if n not in chosen)]
    table = pd.DataFrame(
        {
            "parameter": best["factor"],
            "largest_share_of_mu_star": best["share"].round(4),
            "for_outcome": best["outcome"],
            "status": best["status"],
            "kind": best["kind"],
            "group": best["group"],
            "chosen": best["factor"].isin(chosen),
        }
    )
    source += (
        f"; fitted: the {len(chosen)} numeric mechanism assumptions with the largest mu* (at least "
        f"{cal.threshold:g} of the largest for some outcome, at most {cal.max_parameters})"
    )
    return chosen, table.reset_index(drop=True), source
