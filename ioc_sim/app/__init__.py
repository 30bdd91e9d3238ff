"""The teaching app: a SolaraViz page over :class:`TeachingModel`.

``Page`` is built on first access, so importing this package needs no solara.
"""

from ioc_sim.app import page as _page


def __getattr__(name: str):
    return getattr(_page, name)
