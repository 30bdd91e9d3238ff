"""Scoring answers: item -> respondent -> organisation -> collaboration.

* a respondent's construct score is the mean of their answered items of that
  construct, provided they answered at least half of them (rounded up);
  otherwise it is missing for that respondent, and reported;
* an organisation's score is the mean over its respondents (each counts once);
  the collaboration's score is the mean over organisations (each partner
  counts once, however many people answered for it);
* the spread is kept at each level, partners or respondents that disagree by
  one answer step or more are flagged, and the scores give the maturity index
  (:mod:`ioc_sim.model.maturity`).

docs/survey.md explains the reasons.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ioc_sim.model import maturity as mat
from ioc_sim.survey.instrument import Instrument, load_instrument
from ioc_sim.survey.responses import Responses, read_responses

#: A spread of this much (one answer step on the 0-1 scale) is flagged as disagreement.
DISAGREEMENT = 0.25


@dataclass
class SurveyScores:
    """Scored answers.

    Attributes:
        source: The answer file.
        respondents: One row per respondent: organisation, respondent, row and the
            construct scores (NaN where too few items were answered).
        organisations: Mean construct score per organisation (rows) and construct.
        spread: Standard deviation across each organisation's respondents (NaN with one).
        counts: Respondents contributing to each organisation's construct score.
        collaboration: Mean over organisations, per construct.
        between_sd: Standard deviation of the organisation means, per construct.
        between_range: Highest minus lowest organisation mean, per construct.
        maturity: The collaboration's maturity (None if a whole domain is missing).
        organisation_maturity: Each organisation's own view, as a maturity.
        flags: Where partners, or respondents within a partner, disagree.
        notes: Partial answers and what was left out.
    """

    source: str
    respondents: pd.DataFrame
    organisations: pd.DataFrame
    spread: pd.DataFrame
    counts: pd.DataFrame
    collaboration: pd.Series
    between_sd: pd.Series
    between_range: pd.Series
    maturity: mat.Maturity | None
    organisation_maturity: dict[str, mat.Maturity | None]
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def organisation_ids(self) -> list[str]:
        return list(self.organisations.index)

    def long_table(self) -> pd.DataFrame:
        """Every score in one long table: level, organisation, respondent, construct, value."""
        rows = []
        for _, r in self.respondents.iterrows():
            for c in mat.CONSTRUCTS:
                rows.append(
                    {
                        "level": "respondent",
                        "organisation": r["organisation"],
                        "respondent": r["respondent"],
                        "construct": c,
                        "score": r[c],
                        "sd": np.nan,
                        "n": 1,
                    }
                )
        for org in self.organisations.index:
            for c in mat.CONSTRUCTS:
                rows.append(
                    {
                        "level": "organisation",
                        "organisation": org,
                        "respondent": "",
                        "construct": c,
                        "score": self.organisations.at[org, c],
                        "sd": self.spread.at[org, c],
                        "n": self.counts.at[org, c],
                    }
                )
            m = self.organisation_maturity.get(org)
            rows.append(
                {
                    "level": "organisation",
                    "organisation": org,
                    "respondent": "",
                    "construct": "maturity_index",
                    "score": m.score if m else np.nan,
                    "sd": np.nan,
                    "n": np.nan,
                }
            )
        for c in mat.CONSTRUCTS:
            rows.append(
                {
                    "level": "collaboration",
                    "organisation": "",
                    "respondent": "",
                    "construct": c,
                    "score": self.collaboration[c],
                    "sd": self.between_sd[c],
                    "n": int(self.counts[c].gt(0).sum()),
                }
            )
        rows.append(
            {
                "level": "collaboration",
                "organisation": "",
                "respondent": "",
                "construct": "maturity_index",
                "score": self.maturity.score if self.maturity else np.nan,
                "sd": np.nan,
                "n": len(self.organisations),
            }
        )
        return pd.DataFrame(rows)


def _present(values: Mapping[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if not pd.isna(v)}


def _assess(values: Mapping[str, float]) -> mat.Maturity | None:
    try:
        return mat.assess(_present(values))
    except ValueError:
        return None


def score_responses(resp: Responses, inst: Instrument | None = None) -> SurveyScores:
    """Score answers: respondent, organisation and collaboration construct scores,
    their spread, the maturity index and disagreement flags."""
    inst = inst or load_instrument()
    notes = list(resp.notes)
    item_scores = pd.DataFrame({it.id: resp.answers[it.id].map(it.score) for it in inst.items})
    per = pd.DataFrame(index=resp.answers.index)
    for c in inst.constructs:
        ids = [i.id for i in inst.items_of(c.key)]
        need = math.ceil(len(ids) / 2)
        answered = item_scores[ids].notna().sum(axis=1)
        per[c.key] = item_scores[ids].mean(axis=1).where(answered >= need)
        for k in per.index[(answered > 0) & (answered < need)]:
            m = resp.meta.loc[k]
            notes.append(
                f"row {m['row']} ({m['organisation']}, respondent {m['respondent']}): "
                f"{c.key} left unscored ({int(answered[k])} of {len(ids)} statements "
                f"answered; needs {need})."
            )
    respondents = pd.concat([resp.meta[["organisation", "respondent", "row"]], per], axis=1)
    groups = respondents.groupby("organisation", sort=False)[list(mat.CONSTRUCTS)]
    orgs = groups.mean()
    spread = groups.std(ddof=1)
    counts = groups.count()
    for org in orgs.index:
        for c in mat.CONSTRUCTS:
            if counts.at[org, c] == 0:
                notes.append(
                    f"{org}: no usable answers for {c}; it is left out of {org}'s "
                    "scores and of the collaboration's mean for it."
                )
    collab = orgs.mean(axis=0, skipna=True)
    between_sd = orgs.std(axis=0, ddof=1)
    between_range = orgs.max(axis=0) - orgs.min(axis=0)
    flags = []
    for c in mat.CONSTRUCTS:
        if between_range[c] >= DISAGREEMENT - 1e-12:
            hi, lo = orgs[c].idxmax(), orgs[c].idxmin()
            flags.append(
                f"partners disagree on {c}: {lo} {orgs.at[lo, c]:.2f} vs {hi} "
                f"{orgs.at[hi, c]:.2f} (range {between_range[c]:.2f})"
            )
    for org in orgs.index:
        for c in mat.CONSTRUCTS:
            sd = spread.at[org, c]
            if not pd.isna(sd) and sd >= DISAGREEMENT - 1e-12:
                flags.append(
                    f"respondents in {org} disagree on {c}: sd {sd:.2f} over "
                    f"{int(counts.at[org, c])} respondents"
                )
    overall = _assess(collab.to_dict())
    if overall is None:
        notes.append("The maturity index cannot be computed: a whole domain has no answers.")
    elif overall.missing:
        notes.append(
            "The maturity index leaves out " + ", ".join(overall.missing) + " (no answers)."
        )
    per_org = {org: _assess(orgs.loc[org].to_dict()) for org in orgs.index}
    return SurveyScores(
        resp.source,
        respondents,
        orgs,
        spread,
        counts,
        collab,
        between_sd,
        between_range,
        overall,
        per_org,
        flags,
        notes,
    )


def score_file(
    path: str | Path, known: Iterable[str] | None = None, min_respondents: int = 1
) -> SurveyScores:
    """Read and score an answer file (see :func:`read_responses`)."""
    return score_responses(read_responses(path, known, min_respondents))


def format_report(scores: SurveyScores, inst: Instrument | None = None) -> str:
    """A plain-text report: scores by organisation, spread, maturity, flags and notes."""
    inst = inst or load_instrument()
    abbr = {c.key: c.abbreviation for c in inst.constructs}
    n_resp = len(scores.respondents)
    n_org = len(scores.organisations)
    width = max(12, *(len(o) for o in scores.organisations.index))
    head = (
        f"{'':<{width}}" + "".join(f"{abbr[c]:>6}" for c in mat.CONSTRUCTS) + f"{'index':>8}  level"
    )
    lines = [
        f"Survey {scores.source}: {n_resp} respondent(s) from {n_org} organisations",
        "Construct scores 0-1 (mean over respondents; 0.5 is neutral; CF is conflict, so "
        "lower is better)",
        "",
        head,
        "-" * len(head),
    ]

    def cell(v: float) -> str:
        return f"{v:>6.2f}" if not pd.isna(v) else f"{'-':>6}"

    for org in scores.organisations.index:
        m = scores.organisation_maturity.get(org)
        tail = f"{m.score:>8.1f}  {m.level}" if m else f"{'-':>8}"
        lines.append(
            f"{org:<{width}}"
            + "".join(cell(scores.organisations.at[org, c]) for c in mat.CONSTRUCTS)
            + tail
        )
    lines.append("-" * len(head))
    m = scores.maturity
    tail = f"{m.score:>8.1f}  {m.level}" if m else f"{'-':>8}"
    lines.append(
        f"{'all (mean)':<{width}}"
        + "".join(cell(scores.collaboration[c]) for c in mat.CONSTRUCTS)
        + tail
    )
    lines.append(
        f"{'sd between':<{width}}" + "".join(cell(scores.between_sd[c]) for c in mat.CONSTRUCTS)
    )
    lines.append(
        f"{'sd within':<{width}}" + "".join(cell(scores.spread[c].mean()) for c in mat.CONSTRUCTS)
    )
    lines.append("")
    lines.append("Key: " + ", ".join(f"{abbr[c]} {c.replace('_', ' ')}" for c in mat.CONSTRUCTS))
    if m:
        doms = ", ".join(f"{d.replace('_', ' ')} {v:.2f}" for d, v in m.domains.items())
        cap = (
            f" (held at {m.level} by the weakest domain, {m.weakest.replace('_', ' ')})"
            if m.capped
            else ""
        )
        lines += ["", f"Maturity index {m.score:.1f} of 100: {m.level}{cap}.", f"Domains: {doms}."]
    lines += ["", "Disagreement (a spread of one answer step, 0.25, or more):"]
    lines += [f"  - {f}" for f in scores.flags] or ["  none"]
    if scores.notes:
        lines += ["", "Partial answers and exclusions:"]
        lines += [f"  - {n}" for n in scores.notes]
    return "\n".join(lines)
