"""Benchmarks of saelab against its peers (SAELens, SAEDashboard); run with ``make bench`` / bench/run.sh."""
