"""The location properties of an XMP packet (service/adapters/location_scrub/xmp_location.py):
known by namespace URI and name whatever the prefix, cut out byte for byte, the rest kept."""

from __future__ import annotations

import pytest

from service.adapters.location_scrub.xmp_location import without_location
from service.domain.errors import LocationNotRemovable
from tests.support.located_images import EXIF_NAMESPACE, GPS_PROPERTIES, RENAMED_GPS, xmp_packet

IPTC = 'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'


def test_gps_elements_go_and_every_other_byte_stays() -> None:
    packet = xmp_packet(GPS_PROPERTIES + "<exif:DateTimeOriginal>2024</exif:DateTimeOriginal>")

    kept = without_location(packet)

    assert kept == packet.replace(GPS_PROPERTIES.encode(), b"")
    assert without_location(kept) is None


@pytest.mark.parametrize(
    "properties",
    [
        RENAMED_GPS,  # another prefix; the default namespace
        '<e:GPSAltitude xmlns:e="http://ns.adobe.com/exif/1.0/"/>',  # an empty element
        "<dji:GpsLatitude xmlns:dji='http://www.dji.com/drone-dji/1.0/'>48.85</dji:GpsLatitude>",
        '<ep:Latitude xmlns:ep="http://ns.google.com/photos/dd/1.0/earthpose/">48.8</ep:Latitude>',
    ],
)
def test_a_position_is_known_by_its_namespace_and_name_not_its_prefix(properties: str) -> None:
    packet = xmp_packet(properties)

    assert without_location(packet) == packet.replace(properties.encode(), b"")


def test_gps_attributes_go_with_the_space_before_them_and_the_others_stay() -> None:
    packet = xmp_packet(
        "",
        f'xmlns:pos="{EXIF_NAMESPACE}" pos:GPSLatitude="48,51.4917N"\n'
        "    pos:GPSLongitude='2,17.6667E' pos:ExposureTime=\"1/125\"",
    )

    kept = without_location(packet)

    assert kept is not None
    assert b"GPS" not in kept
    assert b'pos:ExposureTime="1/125"' in kept
    assert kept == packet.replace(b' pos:GPSLatitude="48,51.4917N"', b"").replace(
        b"\n    pos:GPSLongitude='2,17.6667E'", b""
    )


def test_the_coordinates_inside_an_iptc_location_go_and_its_place_names_stay() -> None:
    shown = (
        "<Iptc4xmpExt:LocationShown><rdf:Bag><rdf:li rdf:parseType='Resource'>"
        "<Iptc4xmpExt:City>Paris</Iptc4xmpExt:City>"
        "<exif:GPSLatitude>48,51.4917N</exif:GPSLatitude>"
        "<exif:GPSLongitude><rdf:Alt><rdf:li>2,17.6667E</rdf:li></rdf:Alt></exif:GPSLongitude>"
        "</rdf:li></rdf:Bag></Iptc4xmpExt:LocationShown>"
    )
    packet = xmp_packet(shown, f'xmlns:exif="{EXIF_NAMESPACE}" {IPTC}')

    kept = without_location(packet)

    assert kept is not None
    assert b"GPS" not in kept
    assert b"<Iptc4xmpExt:City>Paris</Iptc4xmpExt:City></rdf:li>" in kept


def test_a_prefix_that_names_another_namespace_is_not_taken_for_exif() -> None:
    packet = xmp_packet('<exif:Title xmlns:exif="urn:not-exif">x</exif:Title>', "")

    assert without_location(packet) is None


@pytest.mark.parametrize(
    "packet",
    [
        b"<x:xmpmeta><exif:GPSLatitude>48</exif:GPSLatitude></x:xmpmeta>",  # unbound prefixes
        b'<!DOCTYPE x [<!ENTITY e "<exif:GPSLatitude>1</exif:GPSLatitude>">]><x>&e;</x>',
        "<x><GPSLatitude>48</GPSLatitude>".encode("utf-16"),  # not UTF-8, and not closed
    ],
    ids=["unbound-prefix", "doctype", "utf-16"],
)
def test_a_packet_that_cannot_be_parsed_and_mentions_gps_is_refused(packet: bytes) -> None:
    with pytest.raises(LocationNotRemovable, match="not well-formed XML"):
        without_location(packet)


def test_a_packet_that_cannot_be_parsed_and_mentions_no_position_is_kept() -> None:
    assert without_location(b"<x:xmpmeta><dc:title>Paris</dc:title>") is None
