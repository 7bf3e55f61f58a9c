"""Vidmesh ingest: uploads in, validated originals stored, transcode jobs queued."""
