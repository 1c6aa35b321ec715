"""The side-by-side benchmark behind ``make bench`` (not part of the package or the tests)."""
