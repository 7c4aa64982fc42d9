"""Tests of the pure core of collaborative documents."""
