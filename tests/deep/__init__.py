"""Tests of convexnn.deep, one file per module."""
