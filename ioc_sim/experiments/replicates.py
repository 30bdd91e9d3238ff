"""Build a system once, advance replicates of it together, read metrics month by month.

Every runner of the package goes through here: a scenario's replicates
(:mod:`~ioc_sim.experiments.runs`), an experiment's tasks
(:mod:`~ioc_sim.experiments.reductions`) and the validation patterns. It is
the one place the experiments layer reaches into the engine.

Replicate ``i`` advanced here gives exactly the numbers of
``CollaborationModel(rng=seeds[i], **kwargs)`` run alone: the system is built
as the model builds it (:func:`ioc_sim.engine.system.build_system`), each
replicate owns ``numpy.random.default_rng(seed)`` (the generator the model
makes of its ``rng``), and the state is laid out as a single replicate's is.

A metric to read is either the name of a model metric
(:data:`ioc_sim.model.metrics.METRICS`) or a function of the simulation that
returns one value, or one array, per replicate.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ioc_sim.engine import DISSOLVED, Simulation, status_name
from ioc_sim.engine.system import build_system, normalise_relations, resolve_parameters
from ioc_sim.model.metrics import METRICS, evaluate
from ioc_sim.spec.parameters import CONTEXT_FIELDS

#: What a metric to read may be: a metric's name, or a function of the simulation.
Reader = str | Callable[[Simulation], np.ndarray]
#: Keywords that describe the system's structure rather than parameter values.
STRUCTURE = ("organisations", "collaborations", "events")


def _split(kwargs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], Any]:
    kw = dict(kwargs)
    structure = {k: kw.pop(k, None) for k in STRUCTURE}
    relations = kw.pop("initial_relations", None)
    return kw, structure, relations


def validate_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Check model keywords as :class:`~ioc_sim.model.CollaborationModel` does, without a model.

    Parameters, organisations, collaborations, events and starting relations
    are checked exactly as the model's constructor checks them; nothing is
    simulated and no dynamic random number is drawn.

    Args:
        kwargs: Model keywords (parameters, structure, ``initial_relations``).

    Returns:
        Every parameter's value, declared defaults filled in.

    Raises:
        ConfigError: Naming the field, for anything the model would refuse.
    """
    kw, structure, relations = _split(kwargs)
    params, explicit = resolve_parameters(kw)
    pop, _, _ = build_system(params, explicit, **structure)
    if relations:
        normalise_relations(relations, pop.ids)
    return params


def start(kwargs: Mapping[str, Any], seeds: Iterable[int]) -> Simulation:
    """The simulation of one system at month 0, one replicate per seed.

    Args:
        kwargs: Model keywords, as for ``CollaborationModel`` (without ``rng``).
        seeds: One seed per replicate.

    Raises:
        ConfigError: Naming the field, for any invalid keyword.
    """
    # The caller's keywords stay untouched, whatever the run does with its own copy.
    kw, structure, relations = _split(copy.deepcopy(dict(kwargs)))
    params, explicit = resolve_parameters(kw)
    pop, specs, evs = build_system(params, explicit, **structure)
    sim = Simulation(params, pop, specs, evs, [np.random.default_rng(s) for s in seeds])
    if relations:
        sim.set_relations(normalise_relations(relations, pop.ids))
    _row_major_state(sim)
    return sim


def _row_major_state(sim: Simulation) -> None:
    """Store each replicate's state contiguously, as a single replicate's is.

    Some initial state comes out of fancy indexing in column-major order when
    R > 1; numpy then sums a replicate's values in another order than for
    R = 1, and month-0 means differ in the last bit. A row-major copy holds
    the same numbers, so every later step is unchanged, and batched metrics
    equal those of the model run alone bit for bit. Only arrays that own their
    data and are referenced once are copied, so no shared view is broken.
    """
    attrs = vars(sim)
    counts: dict[int, int] = {}
    for v in attrs.values():
        counts[id(v)] = counts.get(id(v), 0) + 1
    for name, v in list(attrs.items()):
        if (
            isinstance(v, np.ndarray)
            and v.ndim >= 2
            and v.shape[0] == sim.R
            and v.base is None
            and not v.flags["C_CONTIGUOUS"]
            and counts[id(v)] == 1
        ):
            attrs[name] = np.ascontiguousarray(v)


def _schedule(
    metrics: Sequence[str] | Mapping[str, Reader],
    at: Iterable[int] | Mapping[str, Iterable[int]] | None,
    first: int,
    last: int,
) -> tuple[dict[str, Reader], dict[int, list[str]]]:
    """Readers by label, and the labels read at each month, in the order given."""
    readers = dict(metrics) if isinstance(metrics, Mapping) else {m: m for m in metrics}
    for label, reader in readers.items():
        if isinstance(reader, str) and reader not in METRICS:
            raise KeyError(f"{label}: no metric named {reader!r}")
    every = range(first, last + 1)
    months = {
        label: set(every if at is None else at[label] if isinstance(at, Mapping) else at)
        for label in readers
    }
    plan: dict[int, list[str]] = {}
    for month in every:
        labels = [label for label in readers if month in months[label]]
        if labels:
            plan[month] = labels
    return readers, plan


def advance(
    sim: Simulation,
    months: int,
    metrics: Sequence[str] | Mapping[str, Reader] = (),
    *,
    at: Iterable[int] | Mapping[str, Iterable[int]] | None = None,
    progress: Any = None,
) -> dict[str, np.ndarray]:
    """Advance ``sim`` by ``months`` months, reading metrics on the way.

    Args:
        sim: The simulation (from :func:`start`).
        months: Months to step.
        metrics: Metric names, or labels mapped to a metric name or a function
            of the simulation returning one value (or array) per replicate.
        at: The months to read, counted as ``sim.month`` counts them (0 is the
            state before the first step): every month by default, one set for
            every metric, or one per label.
        progress: Anything with ``update(n)`` (a progress bar), told of every
            replicate month stepped.

    Returns:
        Each label mapped to its values, shape (replicates, months read, ...)
        in month order; a label that was never read is absent.
    """
    readers, plan = _schedule(metrics, at, sim.month, sim.month + months)
    read: dict[str, list[np.ndarray]] = {}

    def observe() -> None:
        labels = plan.get(sim.month)
        if not labels:
            return
        # Named metrics in one call: the model computes many at once in one pass.
        named = [readers[k] for k in labels if isinstance(readers[k], str)]
        values = evaluate(sim, list(dict.fromkeys(named))) if named else {}
        for k in labels:
            reader = readers[k]
            # Copied when read: the state a function returns moves on with the next month.
            x = (
                np.asarray(values[reader], float)
                if isinstance(reader, str)
                else np.array(reader(sim), copy=True)
            )
            read.setdefault(k, []).append(x)

    observe()
    for _ in range(months):
        sim.step()
        if progress is not None:
            progress.update(sim.R)
        observe()
    return {k: np.stack(v, axis=1) for k, v in read.items()}


def simulate(
    kwargs: Mapping[str, Any],
    seeds: Sequence[int],
    months: int,
    metrics: Sequence[str] | Mapping[str, Reader],
    *,
    at: Iterable[int] | Mapping[str, Iterable[int]] | None = None,
    progress: Any = None,
) -> dict[str, np.ndarray]:
    """Build a system once, advance these replicates together, read these metrics.

    Args:
        kwargs: Model keywords, as for ``CollaborationModel`` (without ``rng``),
            ``initial_relations`` included.
        seeds: One seed per replicate.
        months: Months to run.
        metrics: Metric names, or labels mapped to a metric name or a function
            of the simulation (see :func:`advance`).
        at: Months to read (default every month, 0 to ``months``), for all
            metrics or per label.
        progress: Anything with ``update(n)``, told of every replicate month.

    Returns:
        Each label mapped to its values, shape (replicates, months read, ...).

    Raises:
        ConfigError: Naming the field, for any invalid keyword.
    """
    return advance(start(kwargs, seeds), months, metrics, at=at, progress=progress)


def collaboration_table(sim: Simulation, replicate: int = 0) -> pd.DataFrame:
    """One row per collaboration of one replicate: form, members, status, age, contexts.

    The table :meth:`ioc_sim.model.CollaborationModel.collaborations` gives for
    its single replicate.
    """
    rows = []
    for c, spec in enumerate(sim.st.collabs):
        row = {
            "name": spec.name,
            "form": spec.form,
            "members": ", ".join(sim.pop.ids[i] for i in spec.members),
            "status": status_name(int(sim.status[replicate, c])),
            "age": int(sim.age[replicate, c]),
            "start": spec.start,
        }
        row.update({f: float(sim.ctx[f][replicate, c]) for f in CONTEXT_FIELDS})
        rows.append(row)
    return pd.DataFrame(rows)


def dissolved_share(sim: Simulation) -> np.ndarray:
    """Share of collaborations dissolved, per replicate (0 with no collaborations)."""
    if sim.C == 0:
        return np.zeros(sim.R)
    return (sim.status[:, :-1] == DISSOLVED).mean(axis=1)


def metric_names() -> tuple[str, ...]:
    """The names of the model's metrics, in the order the model reports them."""
    return tuple(METRICS)
