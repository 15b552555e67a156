"""Tests of convexnn.solvers, one file per module."""
