"""The ``ioc-sim`` command line: thin commands over the package's Python API."""

from ioc_sim.cli.main import main

__all__ = ["main"]
