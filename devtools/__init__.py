"""Developer tooling for inspector: real local OCI registries for integration tests.

Nothing here is imported by the ``inspector`` package itself.
"""
