"""The experiment pipeline checked end to end on the Ishigami function.

:func:`selftest` runs a Sobol' design of :mod:`~ioc_sim.experiments.ishigami`
through the executor, the Parquet store and the analysis, exactly as an
experiment on the model runs, and compares the indices found with the
analytic ones.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ioc_sim.experiments.execution import run_experiment
from ioc_sim.experiments.ishigami import S1, S13, ST, ishigami_experiment
from ioc_sim.experiments.sensitivity import AnalysisError, analyse


def selftest(
    out: Path,
    n: int = 4096,
    workers: int = 1,
    scheduler: str | None = None,
    tolerance: float = 0.02,
    show_progress: bool = True,
    connect_timeout: float = 30.0,
) -> tuple[bool, pd.DataFrame]:
    """Run the whole pipeline on the Ishigami function and compare with the analytic indices.

    Returns:
        Whether every S1 and ST is within ``tolerance`` of its analytic value,
        and the comparison table.
    """
    exp = ishigami_experiment(n=n)
    run_experiment(
        exp,
        out,
        workers=workers,
        scheduler=scheduler,
        show_progress=show_progress,
        flush_seconds=5.0,
        connect_timeout=connect_timeout,
    )
    an = analyse(out, figures=True)
    if an.problems:
        raise AnalysisError("; ".join(an.problems))
    t = an.tables["sobol"].set_index("factor")
    rows = []
    for j, f in enumerate(("x1", "x2", "x3")):
        for idx, truth in (("S1", S1[j]), ("ST", ST[j])):
            est = float(t.loc[f, idx])
            rows.append(
                {
                    "index": f"{idx}[{f}]",
                    "analytic": truth,
                    "estimate": est,
                    "conf95": float(t.loc[f, f"{idx}_conf"]),
                    "error": est - truth,
                    "ok": abs(est - truth) <= tolerance,
                }
            )
    s2 = an.tables.get("sobol_s2")
    if s2 is not None:
        r = s2[(s2["factor_a"] == "x1") & (s2["factor_b"] == "x3")].iloc[0]
        rows.append(
            {
                "index": "S2[x1,x3]",
                "analytic": S13,
                "estimate": r["S2"],
                "conf95": r["S2_conf"],
                "error": r["S2"] - S13,
                "ok": abs(r["S2"] - S13) <= max(tolerance, 2 * r["S2_conf"]),
            }
        )
    table = pd.DataFrame(rows)
    noise = an.tables["noise"].iloc[0]
    table.attrs["noise_share"] = float(noise["noise_share"])
    return bool(table["ok"].all()), table
