"""Real infrastructure processes on loopback, for `vidmesh up` and the test fixtures."""
