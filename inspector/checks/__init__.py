"""Checks: each takes inputs and a registry client and returns plain result data."""
