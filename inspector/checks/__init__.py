"""Checks: each takes loaded inputs (and a registry client when it probes) and returns result data."""
