"""Real NHS systems: bundled NHS England reference data turned into scenarios."""
