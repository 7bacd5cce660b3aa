"""The WebDAV/CalDAV wire format the driver needs: REPORT bodies and multistatus parsing.

The caldav library discovers principals and calendars; the reads are our own
REPORTs because one request can then carry every item's etag *and* data (a
``sync-collection`` with ``calendar-data``, RFC 6578 section 3.1, or a
``calendar-query`` for servers without sync), where the library's helpers fetch
objects one GET at a time.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape

__all__ = ["Item", "Multistatus", "multiget_body", "parse_multistatus", "query_body", "sync_body"]

_DAV = "{DAV:}"
_CAL = "{urn:ietf:params:xml:ns:caldav}"
_NS = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"'
_PROPS = "<D:prop><D:getetag/><C:calendar-data/></D:prop>"


def sync_body(token: str | None) -> str:
    """A sync-collection REPORT: everything (no token) or the changes since ``token``."""
    token_xml = f"<D:sync-token>{escape(token)}</D:sync-token>" if token else "<D:sync-token/>"
    return (
        f'<?xml version="1.0" encoding="utf-8"?><D:sync-collection {_NS}>{token_xml}'
        f"<D:sync-level>1</D:sync-level>{_PROPS}</D:sync-collection>"
    )


def query_body() -> str:
    """A calendar-query REPORT for every VEVENT resource (servers without sync)."""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><C:calendar-query {_NS}>{_PROPS}'
        '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/>'
        "</C:comp-filter></C:filter></C:calendar-query>"
    )


def multiget_body(hrefs: list[str]) -> str:
    """A calendar-multiget REPORT: the data of ``hrefs`` in one request."""
    refs = "".join(f"<D:href>{escape(h)}</D:href>" for h in hrefs)
    return (
        f'<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget {_NS}>{_PROPS}{refs}'
        "</C:calendar-multiget>"
    )


@dataclass(frozen=True, slots=True)
class Item:
    """One ``<response>``: an href, its HTTP status, and what was found."""

    href: str
    status: int
    etag: str | None = None
    data: str | None = None


@dataclass(frozen=True, slots=True)
class Multistatus:
    items: list[Item]
    sync_token: str | None
    truncated: bool  # 507 on the collection: ask again with the new token


def parse_multistatus(body: bytes | str, collection_path: str) -> Multistatus:
    """Parse a 207 reply; raises ValueError for a body that is not a multistatus."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ValueError(f"the server's reply is not XML: {exc}") from exc
    if root.tag != f"{_DAV}multistatus":
        raise ValueError(f"expected a DAV multistatus, got {root.tag}")
    items: list[Item] = []
    truncated = False
    for response in root.iter(f"{_DAV}response"):
        href = (response.findtext(f"{_DAV}href") or "").strip()
        direct = response.findtext(f"{_DAV}status")
        if direct is not None:
            status = _status(direct)
            if href.rstrip("/") == collection_path.rstrip("/") or href.endswith("/"):
                truncated = truncated or status == 507
                continue
            items.append(Item(href, status))
            continue
        etag = data = None
        status = 404
        for propstat in response.iter(f"{_DAV}propstat"):
            if _status(propstat.findtext(f"{_DAV}status") or "") != 200:
                continue
            status = 200
            etag = propstat.findtext(f"{_DAV}prop/{_DAV}getetag") or etag
            data = propstat.findtext(f"{_DAV}prop/{_CAL}calendar-data") or data
        if not href.endswith("/"):
            items.append(Item(href, status, etag, data))
    return Multistatus(items, root.findtext(f"{_DAV}sync-token"), truncated)


def _status(line: str) -> int:
    """``HTTP/1.1 404 Not Found`` -> 404 (0 when unreadable)."""
    parts = line.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
