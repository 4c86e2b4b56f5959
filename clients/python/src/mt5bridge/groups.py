"""MetaTrader5's `group` filter on symbol names (mql5.com/en/docs/integration/python_metatrader5/
mt5positionsget_py, mt5symbolsget_py): comma-separated conditions, `*` matches any run of
characters, `!` excludes. Conditions apply in order, so inclusions come first and exclusions
after: "*,!*USD*" is every symbol but those with USD in the name. Matching ignores case, as
symbol names do in the terminal.
"""

from __future__ import annotations

import re
from typing import Callable, List, Pattern, Tuple


def compile_group(group: str) -> Callable[[str], bool]:
    """A predicate on symbol names; ValueError for an empty or malformed group."""
    conditions: List[Tuple[bool, Pattern[str]]] = []
    for part in group.split(","):
        mask = part.strip()
        exclude = mask.startswith("!")
        if exclude:
            mask = mask[1:].strip()
        if mask == "" or "!" in mask:
            raise ValueError(f"group {group!r}: each condition must be a name mask such as "
                             "EURUSD, *USD* or !*JPY*")
        pattern = ".*".join(re.escape(piece) for piece in mask.split("*"))
        conditions.append((exclude, re.compile(f"^{pattern}$", re.IGNORECASE)))

    def matches(name: str) -> bool:
        selected = False
        for exclude, pattern in conditions:
            if pattern.match(name):
                selected = not exclude
        return selected

    return matches
