"""Make untrusted log text (run names, tags, text summaries, hparams) safe to display.

Owns: `clean`, which removes terminal escape sequences and control characters.
Must not import: textual, tuiboard.ui. Callers build `Text(clean(s))`, never markup strings.
"""

from __future__ import annotations

import re

# ESC-introduced sequences (ECMA-48): CSI, string sequences (OSC, DCS, SOS, PM, APC) up to their
# terminator (BEL or ST) or the end of the text, and the short two/three-byte escapes.
# The 8-bit C1 forms (0x9b CSI, 0x9d OSC, 0x90 DCS, ...) are matched the same way.
_ESCAPES = re.compile(
    r"""
    (?:\x1b\[|\x9b) [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]?          # CSI ... final byte
  | (?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f]) .*? (?:\x07|\x1b\\|\x9c|\Z)  # OSC/DCS/SOS/PM/APC
  | \x1b [\x20-\x2f]* [\x30-\x7e]?            # other escapes (ESC 7, ESC ( B)
    """,
    re.VERBOSE | re.DOTALL,
)
# C0 and C1 controls, DEL, and the Unicode bidirectional overrides/isolates that can reorder
# what the user sees on screen.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROLS_KEEP_NL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(s: str, keep_newlines: bool = False) -> str:
    """`s` with escape sequences and control characters removed; tabs become spaces.

    Unicode text is kept. With `keep_newlines`, "\\n" survives (for multi-line text summaries);
    "\\r\\n" becomes "\\n".
    """
    if s.isprintable():
        return s
    if "\x1b" in s or any(c in s for c in "\x9b\x9d\x90\x98\x9e\x9f"):
        s = _ESCAPES.sub("", s)
    s = s.replace("\t", " ")
    if keep_newlines:
        s = s.replace("\r\n", "\n")
        return _CONTROLS_KEEP_NL.sub("", s)
    return _CONTROLS.sub("", s)
