"""One HTML file from a theory test (and validation) folder."""

from ioc_sim.report.html import SECTIONS, build_report, write_report

__all__ = ["SECTIONS", "build_report", "write_report"]
