"""``python -m ioc_sim`` is the same as the ``ioc-sim`` command."""

import sys

from ioc_sim.cli import main

sys.exit(main())
