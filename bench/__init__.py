"""Benchmarks against the local stack. Not tests: they print JSON and write bench/results/."""
