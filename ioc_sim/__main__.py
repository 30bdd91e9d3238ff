"""``python -m ioc_sim`` is the same as the ``ioc-sim`` command."""

import sys

from ioc_sim.cli.main import main

sys.exit(main())
