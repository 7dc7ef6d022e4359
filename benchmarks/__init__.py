"""Scripts and workloads that print figures and ratios (`make bench`, `benchmarks/README.md`); not tests."""
