"""Tests of convexnn.patterns, one file per module."""
