"""The validation matrix: patterns by specification variants, as CSV, Markdown and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ioc_sim.validation.arms import REPLICATES, SEED
from ioc_sim.validation.patterns import Pattern, bundled

#: How the runs of the default specification at other root seeds are labelled.
OTHER_SEEDS = "default, seed "


def _by_seed(checks: pd.DataFrame) -> pd.Series:
    return checks["variant"].str.startswith(OTHER_SEEDS)


def robustness(checks: pd.DataFrame) -> pd.Series | None:
    """For each pattern, the share of root seeds (the validation seed and the others
    run) at which the default specification reproduces it; None without other seeds."""
    seeded = checks[_by_seed(checks) | (checks["variant"] == "default")]
    if not _by_seed(checks).any():
        return None
    return seeded.groupby("pattern", sort=False)["passed"].agg(lambda x: f"{int(x.sum())}/{len(x)}")


def matrix(checks: pd.DataFrame) -> pd.DataFrame:
    """Patterns (rows) by specification variants (columns): "pass" or "FAIL"."""
    checks = checks[~_by_seed(checks)]
    m = checks.pivot(index="pattern", columns="variant", values="passed")
    order = [v for v in dict.fromkeys(checks["variant"])]
    m = m[order].reindex([p for p in dict.fromkeys(checks["pattern"])])
    return m.map(lambda x: "pass" if x else "FAIL")


def matrix_markdown(checks: pd.DataFrame, chosen: list[Pattern] | None = None) -> str:
    """The matrix and each pattern's criterion and default-variant detail, as Markdown."""
    m = matrix(checks)
    lines = ["| pattern | " + " | ".join(m.columns) + " |", "|---|" + "---|" * len(m.columns)]
    for pid, row in m.iterrows():
        lines.append(f"| {pid} | " + " | ".join(row.tolist()) + " |")
    total = m.eq("pass").sum()
    lines.append("| reproduced | " + " | ".join(f"{int(v)}/{len(m)}" for v in total) + " |")
    held = robustness(checks)
    if held is not None:
        lines += [
            "",
            "Default specification at other root seeds (the same checks on other random numbers):",
            "",
            "| pattern | reproduced at |",
            "|---|---|",
        ]
        lines += [f"| {pid} | {share} seeds |" for pid, share in held.items()]
    lines += [
        "",
        "| pattern | scenario | criterion (relative tolerance) | default: result |",
        "|---|---|---|---|",
    ]
    by_id = {p.id: p for p in (chosen or bundled())}
    for pid in m.index:
        p = by_id[pid]
        d = checks[(checks.pattern == pid) & (checks.variant == checks.variant.iloc[0])]
        detail = d["detail"].iloc[0] if len(d) else ""
        lines.append(f"| {pid} {p.claim} | {p.scenario} | {p.criterion} | {detail} |")
    return "\n".join(lines)


def _where(chosen: list[Pattern]) -> str:
    """Where the patterns come from, in words."""
    files = sorted({p.path.name for p in chosen if p.path is not None})
    return "docs/patterns.md" if files == ["literature.toml"] else ", ".join(files) or "code"


def write_validation(checks: pd.DataFrame, out: Path, chosen: list[Pattern]) -> None:
    """Write the checks, the matrix (CSV and Markdown) and a JSON summary."""
    out.mkdir(parents=True, exist_ok=True)
    checks.to_csv(out / "checks.csv", index=False)
    matrix(checks).to_csv(out / "matrix.csv")
    text = (
        "# Pattern-oriented validation\n\nEach pattern of docs/patterns.md checked on "
        "its scenario under the default specification and each alternative "
        f"specification ({REPLICATES} replicates per arm, seed {SEED}).\n\n"
        + matrix_markdown(checks, chosen)
        + "\n"
    )
    (out / "matrix.md").write_text(text, encoding="utf-8")
    summary = {
        "seed": SEED,
        "replicates": REPLICATES,
        "patterns": [
            {
                "id": p.id,
                "claim": p.claim,
                "source": p.source,
                "scenario": p.scenario,
                "criterion": p.criterion,
                "use": p.use,
                "breaker": p.breaker,
                "file": str(p.path) if p.path is not None else None,
            }
            for p in chosen
        ],
        "checks": json.loads(checks.to_json(orient="records")),
    }
    (out / "validation.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
