"""Control characters out of every string that reaches a terminal or a CI log.

References, details, labels and file names come from registries and configs. Written
raw, an ESC starts a terminal sequence (colours, cursor moves, an OSC 8 hyperlink, a
title change), a CR overwrites the line already shown, and a newline starts a new log
line that a CI runner may read as a command (GitHub Actions' ``::error::``). Each such
character is shown as a Python-style escape instead (``\\x1b``, ``\\r``, ``\\n``,
``\\u202e``), so the text stays readable and nothing is hidden. JSON output needs none of
this: the JSON encoder escapes control characters itself.
"""

from __future__ import annotations

import re

# C0 controls (tab and newline included: one cell is one line), DEL, C1 controls,
# lone surrogates (unencodable: a crash when written as UTF-8), bidirectional overrides
# and isolates (text shown in another order than it is read), and the Unicode line and
# paragraph separators.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _replace(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape(text: str) -> str:
    """``text`` with every control character written as a visible escape."""
    return _UNSAFE.sub(_replace, text)
