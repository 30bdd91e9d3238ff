"""The validation matrix: patterns by specification variants, as CSV, Markdown and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ioc_sim.validation.arms import REPLICATES, SEED
from ioc_sim.validation.patterns import PATTERNS, Pattern


def matrix(checks: pd.DataFrame) -> pd.DataFrame:
    """Patterns (rows) by specification variants (columns): "pass" or "FAIL"."""
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
    lines += [
        "",
        "| pattern | scenario | criterion (relative tolerance) | default: result |",
        "|---|---|---|---|",
    ]
    by_id = {p.id: p for p in (chosen or PATTERNS)}
    for pid in m.index:
        p = by_id[pid]
        d = checks[(checks.pattern == pid) & (checks.variant == checks.variant.iloc[0])]
        detail = d["detail"].iloc[0] if len(d) else ""
        lines.append(f"| {pid} {p.claim} | {p.scenario} | {p.criterion} | {detail} |")
    return "\n".join(lines)


def write_validation(checks: pd.DataFrame, out: Path, chosen: list[Pattern]) -> None:
    """Write the checks, the matrix (CSV and Markdown) and a JSON summary."""
    out.mkdir(parents=True, exist_ok=True)
    checks.to_csv(out / "checks.csv", index=False)
    matrix(checks).to_csv(out / "matrix.csv")
    text = (
        "# Pattern-oriented validation\n\nEach pattern of theory.md section 7 checked on "
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
            }
            for p in chosen
        ],
        "checks": json.loads(checks.to_json(orient="records")),
    }
    (out / "validation.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
