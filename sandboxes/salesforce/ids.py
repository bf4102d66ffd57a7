"""Salesforce-style record ids: 15-character ids, their 18-character form, key prefixes.

An id is a three-character key prefix naming the object (``500`` Case, ``00a``
CaseComment, ``00T`` Task, ``005`` User, ``00G`` Group, ``069`` ContentDocument, ``06A``
ContentDocumentLink; ``03g`` QueueSobject, ``01J`` CaseStatus, ``017`` CaseHistory and
``01g`` query locators are the same public knowledge), two pod characters, one reserved
character and nine base-62 digits. The 18-character form appends a three-letter
checksum of the letter case of the first fifteen characters, which lets clients that
ignore case tell ids apart. Salesforce answers 18-character ids and accepts both forms
on input; ``normalize`` does the same here (a wrong checksum is a malformed id).
"""

from __future__ import annotations

import string

KEY_PREFIXES: dict[str, str] = {
    "Case": "500",
    "CaseComment": "00a",
    "Task": "00T",
    "User": "005",
    "Group": "00G",
    "QueueSobject": "03g",
    "CaseStatus": "01J",
    "CaseHistory": "017",
    "ContentDocument": "069",
    "ContentDocumentLink": "06A",
    "Account": "001",
    "Contact": "003",
}
"""Object → key prefix (the first three characters of its ids)."""
LOCATOR_PREFIX = "01g"
"""Query locators (``nextRecordsUrl``) start with this prefix."""
POD = "Dp0"
"""The pod and reserved characters every sandbox id carries."""
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SUFFIX = string.ascii_uppercase + "012345"
_ALNUM = frozenset(string.ascii_letters + string.digits)


def checksum(id15: str) -> str:
    """The three characters that turn a 15-character id into its 18-character form."""
    out = []
    for chunk in range(3):
        bits = 0
        for position, char in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if char in string.ascii_uppercase:
                bits |= 1 << position
        out.append(_SUFFIX[bits])
    return "".join(out)


def make_id(prefix: str, number: int) -> str:
    """The 18-character id number ``number`` of the object with key prefix ``prefix``."""
    digits = ""
    value = number
    for _ in range(9):
        value, rest = divmod(value, 62)
        digits = _BASE62[rest] + digits
    id15 = prefix + POD + digits
    return id15 + checksum(id15)


def normalize(value: object) -> str | None:
    """The 18-character form of a 15- or 18-character id; ``None`` when malformed."""
    if not isinstance(value, str) or len(value) not in (15, 18):
        return None
    if any(char not in _ALNUM for char in value):
        return None
    id15 = value[:15]
    expected = checksum(id15)
    if len(value) == 18 and value[15:].upper() != expected:
        return None
    return id15 + expected


def object_of(record_id: str) -> str | None:
    """The object an id belongs to, by its key prefix (``None`` when unknown)."""
    prefix = record_id[:3]
    for name, known in KEY_PREFIXES.items():
        if known == prefix:
            return name
    return None
