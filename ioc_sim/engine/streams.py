"""The dynamic random numbers of each replicate: three SFC64 streams that its
generator seeds (``docs/ODD.md`` section 4, stochasticity).

* The **uniform stream** (the lifecycle's chances, acts, the regulator's
  inspections) is stepped by the compiled kernels themselves
  (:func:`ioc_sim.engine.kernels.rng.sfc64_uniforms`); this module gives its
  starting state.
* The **noise stream** (standard normals for the outcome noise of joint acts) is
  drawn by numpy ahead in blocks (:class:`NoiseBlock`), which the kernels read in
  order.
* The **fortunes stream** (standard normals for the visible results of every
  collaboration, then the fluctuation of every organisation's underlying
  performance) is drawn the same way. It takes the same count every month, one
  per collaboration and one per organisation whatever their state, so two arms of
  a comparison (with and without a merger, say) give each organisation and
  collaboration the same fortunes: common random numbers where the other streams
  part ways.

All are functions of the replicate's seed alone, read in the same order whatever
the number of replicates advanced together, so a replicate run alone gives the
same numbers as in a batch.
"""

from __future__ import annotations

import numpy as np

#: Spawn-key suffixes of the three streams each replicate's generator seeds.
UNIFORM_STREAM, NOISE_STREAM, FORTUNES_STREAM = 0x10C0, 0x10C1, 0x10C2

#: How many months' worth of normals the noise stream draws at a time (a month reads
#: at most one per pair): fewer calls against fewer numbers drawn and never read.
NOISE_BLOCK_MONTHS = 2
#: ...but never fewer than this many per replicate (32 KB), so that a small system,
#: whose joint acts read a few of its normals a month, does not refill every month.
NOISE_BLOCK_MIN = 4096
#: The same for the fortunes stream, which reads exactly its count every month: a year
#: at a time, so that most months cost one check.
FORTUNES_BLOCK_MONTHS = 12


def child_bits(g: np.random.Generator, key: int) -> np.random.SFC64:
    """An SFC64 bit generator seeded by ``g``'s seed sequence with ``key`` appended to
    its spawn key.

    It is a function of ``g``'s seed alone, whatever has been drawn from or spawned
    by ``g``. A generator without a seed sequence (on a legacy bit generator, such
    as ``RandomState``'s) seeds it from its next draw instead.

    SFC64 rather than numpy's default PCG64: it passes the same statistical test
    batteries, draws normals faster, and its step is simple enough for the compiled
    kernels to take the uniforms themselves (benchmarks/README.md has the figures).

    Args:
        g: A replicate's generator.
        key: The stream's spawn-key suffix (:data:`UNIFORM_STREAM` or
            :data:`NOISE_STREAM`).

    Returns:
        The stream's bit generator.
    """
    ss = g.bit_generator.seed_seq
    if isinstance(ss, np.random.SeedSequence):
        child = np.random.SeedSequence(
            ss.entropy, spawn_key=(*ss.spawn_key, key), pool_size=ss.pool_size
        )
    else:
        child = np.random.SeedSequence(int(g.integers(2**63)), spawn_key=(key,))
    return np.random.SFC64(child)


def uniform_state(g: np.random.Generator) -> np.ndarray:
    """The SFC64 state (a, b, c, counter) of the uniform stream ``g`` seeds, which the
    kernels step themselves (:func:`ioc_sim.engine.kernels.rng.sfc64_uniforms`)."""
    return np.array(child_bits(g, UNIFORM_STREAM).state["state"]["state"], dtype=np.uint64)


class NoiseBlock:
    """The noise stream: standard normals of each replicate's own generator, drawn
    ahead in blocks and read in order.

    A numpy Generator gives the same numbers whether they are drawn a few at a time
    or many at once (``standard_normal`` reads the bit stream in order and keeps no
    state between calls), so reading the block in order gives exactly the numbers
    that drawing on demand would: the block size changes the speed, never the
    result. The compiled kernels read ``buf[r, pos[r]:]`` and advance ``pos``
    themselves; :meth:`reserve` first makes sure each row holds enough.

    Args:
        gens: One noise-stream generator per replicate.
        block: How many numbers each row holds.
    """

    def __init__(self, gens: list[np.random.Generator], block: int):
        self.gens = gens
        self.buf = np.empty((len(gens), max(block, 1)))
        self.pos = np.full(len(gens), self.buf.shape[1], dtype=np.int64)  # nothing drawn yet

    def reserve(self, need: int) -> None:
        """Make every row hold at least ``need`` unread numbers (at most the block)."""
        cap = self.buf.shape[1]
        if max(self.pos.tolist()) <= cap - need:  # cheaper than pos.max() for a few rows
            return
        for r in np.flatnonzero(self.pos > cap - need):
            row, rest = self.buf[r], cap - int(self.pos[r])
            row[:rest] = row[cap - rest :].copy()
            self.gens[r].standard_normal(out=row[rest:])
            self.pos[r] = 0

    def take_rows(self, n: int) -> np.ndarray:
        """The next ``n`` numbers of every replicate, (R, n), for a stream that every
        replicate reads at the same pace (the fortunes: the same count every month), so
        that all rows stand at the same position (call :meth:`reserve` first)."""
        i = int(self.pos[0])
        self.pos += n
        return self.buf[:, i : i + n]

    def take(self, r: int, n: int) -> np.ndarray:
        """The next ``n`` numbers of replicate ``r`` (call :meth:`reserve` first)."""
        i = int(self.pos[r])
        self.pos[r] = i + n
        return self.buf[r, i : i + n]


def open_streams(
    rngs: list[np.random.Generator], n_pairs: int, n_fortunes: int
) -> tuple[np.ndarray, NoiseBlock, NoiseBlock]:
    """The three streams of each replicate, ready for the first month.

    Args:
        rngs: One generator per replicate; they seed the streams and are not drawn
            from (unless they lack a seed sequence, see :func:`child_bits`).
        n_pairs: The most normals of the noise stream a month can read.
        n_fortunes: The normals of the fortunes stream a month reads.

    Returns:
        The uniform streams' states ``(R, 4)``, and the noise and fortunes streams'
        blocks.
    """
    ustate = np.array([uniform_state(g) for g in rngs], dtype=np.uint64)
    noise = NoiseBlock(
        [np.random.Generator(child_bits(g, NOISE_STREAM)) for g in rngs],
        max(NOISE_BLOCK_MONTHS * n_pairs, NOISE_BLOCK_MIN),
    )
    fortunes = NoiseBlock(
        [np.random.Generator(child_bits(g, FORTUNES_STREAM)) for g in rngs],
        FORTUNES_BLOCK_MONTHS * n_fortunes,
    )
    return ustate, noise, fortunes
