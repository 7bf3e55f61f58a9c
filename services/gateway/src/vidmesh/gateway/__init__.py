"""Vidmesh gateway."""
