"""Pytest fixtures that start real infrastructure on free loopback ports."""
