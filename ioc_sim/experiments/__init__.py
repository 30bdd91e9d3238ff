"""Scenarios and experiment specifications, seeds, batched execution on executors,
results on disk, and sensitivity analysis with SALib."""
