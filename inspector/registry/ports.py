"""Ports in registry names and endpoint URLs, checked as numbers (1-65535): pure, so the
command line can check them while parsing, before anything network-related is imported."""

from __future__ import annotations

from urllib.parse import urlsplit


def port_error(port_text: str) -> str | None:
    """Why ``port_text`` is not a TCP port (1-65535), or ``None``."""
    if not port_text.isascii() or not port_text.isdigit():
        return f"port {port_text!r} is not a number"
    if not 1 <= int(port_text) <= 65535:
        return f"port {port_text} is not between 1 and 65535"
    return None


def endpoint_problem(text: str) -> str | None:
    """What is wrong with the numbers of one ``REGISTRY=URL`` (the registry's port, the
    URL's port), or ``None``; the rest of the URL is checked where it is used."""
    name, equals, url = text.partition("=")
    if not equals or not name or not url:
        return "expected REGISTRY=URL"
    host_port = name.rsplit("]", 1)[-1] if name.startswith("[") else name
    if ":" in host_port:
        problem = port_error(host_port.rpartition(":")[2])
        if problem:
            return f"registry {name!r}: {problem}"
    problem = url_port_problem(url)
    return f"URL: {problem}" if problem else None


def url_port_problem(url: str) -> str | None:
    """What is wrong with the port of ``url`` (``http://h:99999``, ``http://h:+80``), or
    ``None``; an empty port (``http://h:``) means the scheme's default, as in Go."""
    try:
        authority = urlsplit(url).netloc
    except ValueError:
        return None  # malformed URLs are named by the registry settings loader
    host = authority.rpartition("@")[2]
    host = host.rsplit("]", 1)[-1] if host.startswith("[") else host
    if ":" in host:
        port_text = host.rpartition(":")[2]
        if port_text:
            return port_error(port_text)
    return None
