"""``python -m ioc_sim.cli``: the same program as ``ioc-sim``."""

import sys

from ioc_sim.cli.main import main

sys.exit(main())
