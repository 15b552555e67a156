"""Tests of convexnn.bench, one file per module."""
