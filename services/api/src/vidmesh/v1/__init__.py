"""Generated code for the vidmesh.v1 contracts."""
