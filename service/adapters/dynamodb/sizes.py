"""How DynamoDB counts the size of an item: what its 400 KB item limit, its 4 MB transaction limit
and its capacity units are measured in.

An attribute is its name's UTF-8 bytes plus its value: a string's UTF-8 bytes, a number about one
byte per two significant digits plus one, a boolean or null one byte, a set its members, a list
or map 3 bytes plus a byte and the size of each element (and a map's keys).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

KB = 1024


def attribute_size(value: dict[str, Any]) -> int:
    """The size of one attribute value (without its name)."""
    ((kind, content),) = value.items()
    if kind in ("S", "B"):
        return len(content.encode()) if isinstance(content, str) else len(content)
    if kind == "N":
        digits = Decimal(content).normalize().as_tuple().digits
        return math.ceil(len(digits) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "BS"):
        return sum(attribute_size({kind[0]: member}) for member in content)
    if kind == "NS":
        return sum(attribute_size({"N": member}) for member in content)
    if kind == "L":
        return 3 + sum(1 + attribute_size(member) for member in content)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + attribute_size(v) for k, v in content.items())
    raise ValueError(f"no size rule for {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    """Write units of a non-transactional write of an item of ``size`` bytes (twice in a
    transaction)."""
    return math.ceil(size / KB) if size else 0
