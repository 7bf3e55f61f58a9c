"""Vidmesh cli."""
