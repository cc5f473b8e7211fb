"""Reports of simulated runs: the Report object, its files (JSON, CSV, Perfetto) and plots."""
from hwsim.report.report import OpRecord, Report

__all__ = ["OpRecord", "Report"]
