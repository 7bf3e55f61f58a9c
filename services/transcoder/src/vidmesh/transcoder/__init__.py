"""Vidmesh transcoder: JetStream workers that turn originals into HLS ladders."""
