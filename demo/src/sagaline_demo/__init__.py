"""The order demo and the shared harness the benchmarks drive the real stack with."""
