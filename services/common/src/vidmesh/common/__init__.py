"""Vidmesh common."""
