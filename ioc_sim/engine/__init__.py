"""The array model: population, interaction structure, random streams, the monthly
cycle and its compiled kernels, with the readable numpy reference they are tested
against. Imports only :mod:`ioc_sim.spec` (and :mod:`ioc_sim.errors`).
"""
