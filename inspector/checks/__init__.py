"""Checks: each takes loaded inputs (and a client when it probes) and returns result data."""
