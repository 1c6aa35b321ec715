"""Defaults of the registry options, here alone so the CLI can show them without
importing the client."""

# Requests in flight at once: one wave for a typical builder's candidates; at N=200 on a
# 40 ms link 64 measured faster than 32 or 128 (make bench; README, Performance).
DEFAULT_CONCURRENCY = 64
DEFAULT_TIMEOUT = 10.0  # seconds, for connect and each read
# httpx bounds each phase (connect, each read, each write) by --timeout; this many times
# --timeout bounds one whole request, token fetch and redirects included, so a server
# that trickles a byte at a time cannot hold a run forever.
CEILING_FACTOR = 3
