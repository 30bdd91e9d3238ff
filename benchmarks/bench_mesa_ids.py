"""Memory of many models built in one process, as a long ``mesa.batch_run`` or an EMA
Workbench sweep builds them.

Mesa 3.3 keeps every model in the class-level table ``mesa.Agent._ids`` (mesa#3179,
fixed in Mesa 3.4.2); ``CollaborationModel`` takes itself out of it once its
organisations exist. ``--as-before`` puts each model back into the table, which is
what Mesa 3.3 did to a model that does not take itself out.

    python benchmarks/bench_mesa_ids.py               # 3000 models of 50 organisations
    python benchmarks/bench_mesa_ids.py --as-before

Prints the process's peak resident memory (``ru_maxrss``) after the loop.
"""

from __future__ import annotations

import argparse
import resource
import time

import mesa

from ioc_sim import CollaborationModel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=3000)
    parser.add_argument("--organisations", type=int, default=50)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument(
        "--as-before", action="store_true", help="keep every model in mesa.Agent._ids"
    )
    args = parser.parse_args()
    start = time.perf_counter()
    for i in range(args.models):
        model = CollaborationModel(rng=i, n_organisations=args.organisations, months=args.months)
        if args.as_before:
            mesa.Agent._ids[model]  # the defaultdict entry holds the model, as in Mesa 3.3
        model.run()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"Mesa {mesa.__version__}, {args.models} models of {args.organisations} organisations"
        f"{' kept in mesa.Agent._ids' if args.as_before else ''}: peak RSS {peak:.0f} MiB, "
        f"{time.perf_counter() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
