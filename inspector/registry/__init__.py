"""Talking to OCI registries: endpoints, credentials, auth, manifest probes."""
