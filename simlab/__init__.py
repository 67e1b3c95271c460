"""Simulated multi-server lab on one Linux machine, built from namespaces."""
