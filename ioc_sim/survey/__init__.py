"""The diagnostic survey: instrument, templates, scoring, and starting a simulation
from scored answers."""
