"""An XMP packet without the properties that hold a position, every other byte kept.

A property is known by its namespace URI and name, never by the prefix a writer chose: every
property named ``GPS...`` (``exif:GPSLatitude`` under any prefix bound to
``http://ns.adobe.com/exif/1.0/``, DJI's ``drone-dji:GpsLatitude``, the coordinates inside IPTC's
``LocationShown``/``LocationCreated`` structures, ...) and Google's EarthPose coordinates. Place
names (``photoshop:City``, IPTC's ``City``/``CountryName``) are text someone typed, not a
recorded position, and are kept.

The packet is parsed with expat (without a DTD: no entity can expand) for the byte offsets of
the elements and attributes to remove; only those byte ranges are cut (or, in a packet that
must keep its length, turned into as many spaces: ``blanked_location``), so everything else
(the ``xpacket`` wrapper, its padding, ``tiff:Orientation``, ...) stays as it was. A packet that is
not well-formed UTF-8 XML cannot be edited safely: if it mentions GPS or a latitude it is
refused, otherwise it is kept (a reader finds no position in it either).
"""

from __future__ import annotations

import re
from xml.parsers import expat

from service.domain.errors import LocationNotRemovable

XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"  # of the standard packet in JPEG's APP1
XMP_EXTENSION = b"http://ns.adobe.com/xmp/extension/\x00"  # of an extended packet's parts
EARTH_POSE = "http://ns.google.com/photos/dd/1.0/earthpose/"
XML = "http://www.w3.org/XML/1998/namespace"
_SEPARATOR = "\x01"
_TAG_NAME = re.compile(rb"<[^\s/>]+")
_ATTRIBUTE = re.compile(rb"""\s+([^\s=/>]+)\s*=\s*(?:"[^"]*"|'[^']*')""")
_TAG_END = re.compile(rb"\s*(/?)>")
_MENTIONS_LOCATION = re.compile(rb"(?i)g\x00?p\x00?s|l\x00?a\x00?t\x00?i\x00?t\x00?u\x00?d\x00?e")


class _Refused(Exception):
    """A DOCTYPE: entities could make elements that no byte range holds."""


def is_location(namespace: str | None, name: str) -> bool:
    if name[:3].upper() == "GPS":
        return True
    return namespace == EARTH_POSE and name in ("Latitude", "Longitude", "Altitude")


def mentions_location(data: bytes) -> bool:
    """Whether ``data`` (XMP that cannot be parsed) names GPS or a latitude, in any case, in
    UTF-8 or UTF-16."""
    return _MENTIONS_LOCATION.search(data) is not None


def without_location(packet: bytes) -> bytes | None:
    """``packet`` without its location properties; None when it has none."""
    cuts = _cuts(packet)
    if not cuts:
        return None
    parts, position = [], 0
    for start, end in cuts:
        parts.append(packet[position:start])
        position = end
    parts.append(packet[position:])
    return b"".join(parts)


def blanked_location(packet: bytes) -> bytes | None:
    """``packet`` of the same length, its location properties turned into as many spaces:
    where the packet must keep its length (a HEIF item, located by offset). None when it has
    none."""
    cuts = _cuts(packet)
    if not cuts:
        return None
    blanked = bytearray(packet)
    for start, end in cuts:
        blanked[start:end] = b" " * (end - start)
    return bytes(blanked)


def _cuts(packet: bytes) -> list[tuple[int, int]]:
    """The byte ranges of the location properties; LocationNotRemovable when the packet cannot
    be parsed and mentions a location (none: it cannot be parsed and mentions none)."""
    try:
        return _location_ranges(packet)
    except (expat.ExpatError, _Refused, ValueError) as error:
        if mentions_location(packet):
            raise LocationNotRemovable(
                "An XMP packet that may hold a location is not well-formed XML: it cannot be "
                "edited",
                detail=f"{type(error).__name__}: {error}",
            ) from None
        return []


def _location_ranges(packet: bytes) -> list[tuple[int, int]]:
    """The byte ranges of the location properties (elements and attributes), in order."""
    document = packet[: packet.rfind(b">") + 1]
    parser = expat.ParserCreate("utf-8", namespace_separator=_SEPARATOR)
    prefixes: dict[str, list[str]] = {"xml": [XML]}
    cuts: list[tuple[int, int]] = []
    open_cut: list[int] = []  # the start of the location element being cut, if one is open
    depth = 0  # of elements inside it

    def declared(prefix: str | None, uri: str) -> None:
        prefixes.setdefault(prefix or "", []).append(uri)

    def undeclared(prefix: str | None) -> None:
        prefixes[prefix or ""].pop()

    def started(name: str, _attributes: dict[str, str]) -> None:
        nonlocal depth
        start = parser.CurrentByteIndex
        if open_cut:
            depth += 1
            return
        namespace, _, local = name.rpartition(_SEPARATOR)
        tag = _start_tag(document, start)
        if is_location(namespace or None, local):
            if tag.empty:
                cuts.append((start, tag.end))
            else:
                open_cut.append(start)
            return
        for attribute_start, attribute_end, qualified in tag.attributes:
            prefix, _, local = qualified.rpartition(":")
            uri = prefixes.get(prefix, [None])[-1] if prefix else None
            if prefix != "xmlns" and is_location(uri, local):
                cuts.append((attribute_start, attribute_end))

    def ended(_name: str) -> None:
        nonlocal depth
        if not open_cut:
            return
        if depth:
            depth -= 1
            return
        position = parser.CurrentByteIndex
        if document.startswith(b"</", position):
            cuts.append((open_cut.pop(), document.index(b">", position) + 1))
        else:  # <name/>: the end comes right after the start tag
            cuts.append((open_cut.pop(), position))

    def refuse(*_: object) -> None:
        raise _Refused("it declares a DOCTYPE")

    parser.StartNamespaceDeclHandler = declared
    parser.EndNamespaceDeclHandler = undeclared
    parser.StartElementHandler = started
    parser.EndElementHandler = ended
    parser.StartDoctypeDeclHandler = refuse
    parser.Parse(document, True)
    return sorted(cuts)


class _StartTag:
    def __init__(self, end: int, empty: bool, attributes: list[tuple[int, int, str]]) -> None:
        self.end = end
        self.empty = empty
        self.attributes = attributes  # (start, end, qualified name)


def _start_tag(document: bytes, start: int) -> _StartTag:
    """The start tag at ``start``, which expat found well-formed: its attributes' byte ranges
    (with the whitespace before each) and where it ends."""
    name = _TAG_NAME.match(document, start)
    if name is None:
        raise ValueError(f"no start tag at byte {start}")
    position, attributes = name.end(), []
    while attribute := _ATTRIBUTE.match(document, position):
        attributes.append((position, attribute.end(), attribute[1].decode()))
        position = attribute.end()
    end = _TAG_END.match(document, position)
    if end is None:
        raise ValueError(f"the start tag at byte {start} does not end where expected")
    return _StartTag(end.end(), bool(end[1]), attributes)
