"""A pyabc sampler that gives the same posterior on one core, many, or a Dask cluster.

pyabc's own parallel samplers reseed every worker from the operating system and
keep the first particles to finish, so two runs with the same seed differ. This one
numbers the candidates of a generation 0, 1, 2, ...; candidate ``k`` of generation
``t`` has the seed ``SeedSequence(root, spawn_key=(t + 1, k))``, from which pyabc draws
its parameters (pyabc draws from numpy's global stream, which is seeded with it for
that candidate alone and restored after) and its simulation's root seed is derived;
candidates run in batches on any executor
(:func:`ioc_sim.experiments.executors.open_executor`: in-process, a process pool or
Dask), and the generation keeps the first ``n`` accepted *by number*,
counting as evaluated every candidate up to the last one kept. The population, the
acceptance rate and everything after them are then a function of the root seed
alone; a resumed calibration draws the candidates it would have drawn.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import Any

import cloudpickle
import numpy as np
from pyabc.sampler import Sampler

from ioc_sim.calibration.simulator import CANDIDATE_SEED


def candidate_seed(root: int, t: int, k: int) -> int:
    """The seed of candidate ``k`` of generation ``t`` (-1 is the prior's calibration
    sample)."""
    return int(np.random.SeedSequence(root, spawn_key=(t + 1, k)).generate_state(1)[0])


def evaluate(payload: bytes, seeds: list[int]) -> list[Any]:
    """Run pyabc's ``simulate_one`` once per candidate seed.

    pyabc draws a candidate's parameters (from the prior, or by perturbing a particle)
    from numpy's global stream, with no way to pass it a generator; so that stream is
    seeded with the candidate's seed while pyabc draws, and put back as it was after,
    and the model's own seed comes from the candidate's seed (:data:`CANDIDATE_SEED`),
    not from that stream. Module-level, so worker processes and Dask workers can
    import it.
    """
    simulate_one = cloudpickle.loads(payload)
    out = []
    saved = np.random.get_state()
    try:
        for seed in seeds:
            np.random.seed(seed)
            token = CANDIDATE_SEED.set(seed)
            try:
                out.append(simulate_one())
            finally:
                CANDIDATE_SEED.reset(token)
    finally:
        np.random.set_state(saved)
    return out


class OrderedSampler(Sampler):
    """Candidates numbered, run in batches on an executor, kept in number order.

    Args:
        executor: Where candidates run (``concurrent.futures.Executor``).
        root: The calibration's root seed.
        workers: How many run at once (sets the batch size).
        chunk: Candidates per task.
        progress: Called as ``progress(t, accepted, evaluated, n)`` as candidates are
            kept (for a progress bar).
    """

    def __init__(
        self,
        executor: Executor,
        root: int,
        workers: int = 1,
        chunk: int = 4,
        progress: Callable[[int, int, int, int], None] | None = None,
    ):
        super().__init__()
        self.executor = executor
        self.root = int(root)
        self.workers = max(1, workers)
        self.chunk = chunk
        self.progress = progress

    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Callable,
        t: int,
        *,
        max_eval: float = np.inf,
        all_accepted: bool = False,
        ana_vars: Any = None,
    ):
        payload = cloudpickle.dumps(simulate_one)
        sample = self._create_empty_sample()
        in_flight = 2 * self.workers
        pending: dict[Future, int] = {}
        done: dict[int, list[Any]] = {}  # first candidate of a chunk -> its particles
        submitted = kept = accepted = 0
        rate = 1.0 if all_accepted else 0.5

        def enough() -> bool:
            # Submit no more than the candidates still likely to be needed, with a margin.
            ahead = submitted - kept
            need = (n - accepted) / max(rate, 1e-3)
            return ahead >= need + self.chunk * self.workers or submitted >= max_eval

        try:
            while accepted < n and kept < max_eval:
                while len(pending) < in_flight and not enough():
                    seeds = [
                        candidate_seed(self.root, t, k)
                        for k in range(submitted, submitted + self.chunk)
                    ]
                    pending[self.executor.submit(evaluate, payload, seeds)] = submitted
                    submitted += self.chunk
                if not pending:
                    break
                finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in finished:
                    done[pending.pop(fut)] = fut.result()
                # Keep candidates strictly in number order.
                while kept in done and accepted < n and kept < max_eval:
                    for particle in done.pop(kept):
                        sample.append(particle)
                        kept += 1
                        accepted += int(particle.accepted)
                        if accepted >= n or kept >= max_eval:
                            break
                if kept:
                    rate = max(accepted, 1) / kept
                if self.progress is not None:
                    self.progress(t, accepted, kept, n)
        finally:
            for fut in pending:
                fut.cancel()
        self.nr_evaluations_ = kept
        if accepted < n:
            sample.ok = False
        return sample


def print_progress(t: int, accepted: int, evaluated: int, n: int) -> None:
    """A one-line progress report on stderr, rewritten in place."""
    label = "prior sample" if t < 0 else f"generation {t}"
    rate = f"{accepted / evaluated:.1%}" if evaluated else "-"
    end = "\n" if accepted >= n else ""
    print(
        f"\r{label}: {accepted}/{n} accepted, {evaluated} simulated (acceptance {rate})",
        end=end,
        file=sys.stderr,
        flush=True,
    )
