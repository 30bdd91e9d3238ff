"""The posterior of a calibration as a file: weighted particles with their provenance.

``posterior.parquet`` holds the last generation's particles (one column per fitted
parameter, and ``weight``); its Parquet metadata holds where they came from (the
calibration, its patterns files and their SHA-256, the seed, the commit). A
calibration folder or this file can be given wherever a posterior is asked for
(``ioc-sim run SCENARIO --posterior``). :func:`posterior_draws` resamples it,
the same draws for the same seed; :func:`parameter_set` turns it into a named
parameter set (its median), which scenarios and experiments can name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.errors import ConfigError
from ioc_sim.spec.parameters import PARAMETERS

FILE = "posterior.parquet"
_META = b"ioc_sim.posterior"


@dataclass
class Posterior:
    """Weighted particles of a calibration's last generation.

    Attributes:
        particles: One column per fitted parameter.
        weights: The particles' weights (summing to 1).
        provenance: Where the particles came from (calibration, patterns, seed, commit).
        path: The file read.
    """

    particles: pd.DataFrame
    weights: np.ndarray
    provenance: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def names(self) -> list[str]:
        return list(self.particles.columns)

    def quantile(self, q: float) -> dict[str, float]:
        """Each parameter's weighted ``q`` quantile."""
        return {
            n: weighted_quantile(self.particles[n].to_numpy(), self.weights, q) for n in self.names
        }


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``x`` with weights ``w`` (the inverse of the weighted
    cumulative distribution, midpoints interpolated)."""
    order = np.argsort(x, kind="stable")
    x, w = np.asarray(x, float)[order], np.asarray(w, float)[order]
    cum = np.cumsum(w) - 0.5 * w
    return float(np.interp(q * w.sum(), cum, x))


def write_posterior(
    path: Path, particles: pd.DataFrame, weights: np.ndarray, provenance: dict[str, Any]
) -> Path:
    """Write the posterior file with its provenance in the Parquet metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = particles.assign(weight=np.asarray(weights, float))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = {**(table.schema.metadata or {}), _META: json.dumps(provenance, default=str).encode()}
    pq.write_table(table.replace_schema_metadata(meta), path)
    return path


def load_posterior(path: str | Path) -> Posterior:
    """Read a posterior file, or the one in a calibration folder.

    Raises:
        ConfigError: For a missing or unreadable file, or one that is not a posterior.
    """
    import pyarrow.parquet as pq

    p = Path(path)
    if p.is_dir():
        p = p / FILE
    if not p.exists():
        raise ConfigError(
            "--posterior",
            f"no such file {p}; allowed: a calibration folder "
            f"(`ioc-sim calibrate` writes one) or its {FILE}",
        )
    try:
        table = pq.read_table(p)
    except Exception as err:  # noqa: BLE001 - any unreadable file is the user's to fix
        raise ConfigError("--posterior", f"{p} cannot be read as Parquet ({err})") from None
    meta = table.schema.metadata or {}
    if _META not in meta or "weight" not in table.column_names:
        raise ConfigError(
            "--posterior",
            f"{p} is not a posterior file; allowed: the {FILE} of a calibration folder",
        )
    frame = table.to_pandas()
    names = [c for c in frame.columns if c != "weight"]
    unknown = [n for n in names if n not in PARAMETERS]
    if unknown:
        raise ConfigError(
            "--posterior", f"{p}: {unknown[0]!r} is not a parameter of this version of the model"
        )
    w = frame["weight"].to_numpy(float)
    return Posterior(frame[names], w / w.sum(), json.loads(meta[_META]), p)


def posterior_draws(post: Posterior, n: int, seed: int) -> pd.DataFrame:
    """``n`` draws from the posterior (particles resampled by weight), the same for the
    same seed; column ``particle`` says which particle each is."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    idx = rng.choice(len(post.weights), size=n, replace=True, p=post.weights)
    draws = post.particles.iloc[idx].reset_index(drop=True)
    return draws.assign(particle=idx)


def parameter_set(post: Posterior, name: str) -> str:
    """The posterior median as a named parameter set (TOML), with its provenance."""
    pv = post.provenance
    lines = [
        f"# Posterior median of the calibration {pv.get('calibration', name)!r}:",
        "# the value of each fitted parameter at the median of its marginal posterior.",
        '# Scenarios use it with `parameter_set = "PATH"` in [scenario], experiments in',
        "# [experiment]; a scenario's own values win. Regenerate it with `ioc-sim calibrate`.",
        "",
        "[parameter_set]",
        f"name = {json.dumps(name)}",
        f"statistic = {json.dumps('posterior median')}",
        f"calibration = {json.dumps(str(pv.get('calibration_file')))}",
        f"patterns = {json.dumps([p['file'] for p in pv.get('patterns', [])])}",
        f"patterns_sha256 = {json.dumps([p['sha256'] for p in pv.get('patterns', [])])}",
        f"seed = {int(pv.get('seed', 0))}",
        f"commit = {json.dumps(str(pv.get('git_commit')))}",
        f"created = {json.dumps(str(pv.get('created')))}",
        "",
        "[parameters]",
    ]
    for n, v in post.quantile(0.5).items():
        lines.append(f"{n} = {v:.6g}")
    return "\n".join(lines) + "\n"
