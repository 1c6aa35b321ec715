"""The error types each layer raises; the CLI turns them into exit codes in one place."""

from __future__ import annotations


class InspectorError(Exception):
    """Base of every error inspector raises on purpose."""


class InputError(InspectorError):
    """Bad input from the user (reference, file, flag): exit 2 with a one-line message."""


class ConfigError(InputError):
    """A config file or label that cannot be used; the message names the file or image."""
