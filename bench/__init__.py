"""The benchmarks of DESIGN section 9: each prints a table and writes JSON to bench/results/."""
