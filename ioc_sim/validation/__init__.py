"""Patterns from the literature that the model should reproduce, and their checks."""
