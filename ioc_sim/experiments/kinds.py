"""The kinds of model an experiment can run, in one table.

An experiment records its kind (``Experiment.model``, and ``model`` in its
manifest). The kind says how a task's runs are computed and how a stored
experiment is rebuilt from its manifest; nothing else looks at it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ioc_sim.errors import ConfigError
from ioc_sim.experiments import ishigami
from ioc_sim.experiments.experiment import Experiment
from ioc_sim.experiments.experiment_tables import parse_experiment
from ioc_sim.experiments.reductions import reduce_runs

#: The kind of every experiment on the model itself.
MODEL = "ioc_sim"


@dataclass(frozen=True)
class Kind:
    """How the runs of one kind of model are computed and replayed.

    Attributes:
        name: The name recorded in experiments and manifests.
        run: ``(kwargs, seeds, months, outcomes, keep) -> (outcomes, kept series)``
            for the replicates of one design row, as
            :func:`~ioc_sim.experiments.reductions.reduce_runs`.
        rebuild: The experiment as run, from a results folder's manifest.
    """

    name: str
    run: Callable[..., tuple[dict[str, Any], dict[str, Any]]]
    rebuild: Callable[[Mapping[str, Any]], Experiment]


def _model_experiment(manifest: Mapping[str, Any]) -> Experiment:
    path = Path(manifest["experiment_file"]) if manifest.get("experiment_file") else None
    return parse_experiment(manifest["experiment_contents"], name=manifest["experiment"], path=path)


KINDS: dict[str, Kind] = {
    MODEL: Kind(MODEL, reduce_runs, _model_experiment),
    ishigami.KIND: Kind(ishigami.KIND, ishigami.evaluate, ishigami.from_manifest),
}


def kind(name: str) -> Kind:
    """The kind of that name.

    Raises:
        ConfigError: For a kind this version does not know.
    """
    if name not in KINDS:
        raise ConfigError(
            "model", f"got {name!r}; allowed: one of " + ", ".join(repr(k) for k in KINDS)
        )
    return KINDS[name]
