"""The model's declarations: every parameter (default, bounds, unit, construct, status,
meaning), organisation types, collaboration forms and lifecycle stages, scheduled
events, and the shared validators that check them.

The lowest layer: it imports nothing else of the package but :mod:`ioc_sim.errors`.
"""
