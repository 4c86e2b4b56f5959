"""MetaTrader5's `group` filter on symbol names (mql5.com/en/docs/integration/python_metatrader5/
mt5positionsget_py, mt5symbolsget_py): comma-separated conditions, `*` matches any run of
characters, `!` in front excludes, and the conditions apply in order from an empty selection, so
for one name the last condition that matches it decides: "*,!*USD*" is every symbol but those
with USD in the name, "!*USD*,*" is every symbol. A mask matches the whole name, ignoring case;
spaces around a condition are ignored. The gateway applies the same rules (its symbol-group.ts),
and both are tested against the same table (symbol-group-cases.json).
"""

from __future__ import annotations

import re
from typing import Callable, List, Tuple

# The characters of a symbol name, and `*`
_MASK = re.compile(r"^[A-Za-z0-9._#+*-]+$")


def compile_group(group: str) -> Callable[[str], bool]:
    """A predicate on symbol names; ValueError for an empty or malformed group."""
    conditions: List[Tuple[bool, str]] = []
    for part in group.split(","):
        mask = part.strip()
        exclude = mask.startswith("!")
        if exclude:
            mask = mask[1:].strip()
        if not _MASK.match(mask):
            raise ValueError(f"group {group!r}: condition {part!r} must be a name mask such as "
                             "EURUSD, *USD* or !*JPY* (A-Z a-z 0-9 . _ # + - and *)")
        conditions.append((exclude, mask.upper()))

    def matches(name: str) -> bool:
        upper = name.upper()
        for exclude, mask in reversed(conditions):
            if mask_matches(mask, upper):
                return not exclude
        return False

    return matches


def mask_matches(mask: str, text: str) -> bool:
    """`*` is any run of characters, the rest literal. One remembered star, so at most
    len(mask) × len(text) steps: a regular expression of ".*a.*a…" would backtrack
    exponentially on a long mask."""
    m = t = 0
    star = -1
    resume = 0
    while t < len(text):
        if m < len(mask) and mask[m] != "*" and mask[m] == text[t]:
            m += 1
            t += 1
        elif m < len(mask) and mask[m] == "*":
            star = m
            m += 1
            resume = t
        elif star >= 0:
            m = star + 1
            resume += 1
            t = resume
        else:
            return False
    while m < len(mask) and mask[m] == "*":
        m += 1
    return m == len(mask)
