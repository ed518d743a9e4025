"""Text as Dialogrum stores it: the one cleaning rule for every stored field, and the test of
whether a value can be used in a query at all.

Every command that stores a text (comments, session titles and units, conclusions, unit and user
names, the texts of a guide document) passes it through `clean` once, whichever door it came in by:
a socket, a form, the REST API, the CLI or an import. The REST API and the guide validator refuse
control characters first, naming the field (`shared/schemas/fields.py`), so a client learns of its
bug; the other doors drop them. Either way none is stored (docs/api.md#text).
"""

from __future__ import annotations

import re

# YAML (and Python's str.splitlines) treat these as line breaks; folding them into "\n" keeps a
# text the same after a YAML round trip and on every screen.
LINE_BREAKS = re.compile("\r\n|[\r\x85\u2028\u2029]")
#: What is never stored: C0 controls except tab and newline, DEL, C1 controls, the bidirectional
#: embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069: they reorder what follows on
#: a projector or in a spreadsheet, "Trojan Source"), and lone surrogates (not characters at all:
#: they cannot be encoded as UTF-8, so neither database nor an export could take them).
DROPPED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
#: What a database refuses in a query parameter outright: NUL (PostgreSQL) and lone surrogates
#: (UTF-8 encoding, both databases).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean(value: str) -> str:
    """`value` with its line breaks folded to "\\n", the characters of `DROPPED` removed and the
    white space around it stripped."""
    return DROPPED.sub("", LINE_BREAKS.sub("\n", value)).strip()


def storable(value: object) -> bool:
    """A text a query can carry (no NUL, no lone surrogate); False for anything but a str."""
    return isinstance(value, str) and UNSTORABLE.search(value) is None


def unstorable_character(value: str) -> str | None:
    """The first character of `value` no query can carry, as "U+0000", or None."""
    found = UNSTORABLE.search(value)
    return f"U+{ord(found.group()):04X}" if found else None
