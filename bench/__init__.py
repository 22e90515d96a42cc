"""Benchmarks that measure the project from outside: python -m bench.<name>."""
