"""Vidmesh playback: playback info and signed, cache-friendly HLS delivery."""
