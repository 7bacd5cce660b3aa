"""The WebDAV/CalDAV wire format the driver needs: REPORT bodies and multistatus parsing.

The caldav library discovers principals and calendars; the reads are our own
REPORTs because one request can then carry every item's etag *and* data (a
``sync-collection`` with ``calendar-data``, RFC 6578 section 3.1, or a
``calendar-multiget`` of just the changed items for servers without sync), where
the library's helpers fetch objects one GET at a time. Servers without sync are
watched through the collection's CTag (``getctag``, a calendarserver.org
extension that Apple, Nextcloud/SabreDAV, Radicale and most others keep) and a
Depth 1 ``PROPFIND`` of every member's etag.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

__all__ = [
    "Item",
    "Multistatus",
    "ctag_body",
    "etags_body",
    "multiget_body",
    "parse_multistatus",
    "sync_body",
    "sync_unsupported",
]

_DAV = "{DAV:}"
_CAL = "{urn:ietf:params:xml:ns:caldav}"
_CS = "{http://calendarserver.org/ns/}"
_NS = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"'
_CS_NS = 'xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"'
_PROPS = "<D:prop><D:getetag/><C:calendar-data/></D:prop>"


def sync_body(token: str | None, *, data: bool = True) -> str:
    """A sync-collection REPORT: everything (no token) or the changes since ``token``;
    without ``data`` only the etags (to tell our own writes from others' changes)."""
    token_xml = f"<D:sync-token>{escape(token)}</D:sync-token>" if token else "<D:sync-token/>"
    props = _PROPS if data else "<D:prop><D:getetag/></D:prop>"
    return (
        f'<?xml version="1.0" encoding="utf-8"?><D:sync-collection {_NS}>{token_xml}'
        f"<D:sync-level>1</D:sync-level>{props}</D:sync-collection>"
    )


def multiget_body(hrefs: list[str]) -> str:
    """A calendar-multiget REPORT: the data of ``hrefs`` in one request."""
    refs = "".join(f"<D:href>{escape(h)}</D:href>" for h in hrefs)
    return (
        f'<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget {_NS}>{_PROPS}{refs}'
        "</C:calendar-multiget>"
    )


def ctag_body() -> str:
    """A PROPFIND (Depth 0) for the collection's CTag: one request says "nothing changed"."""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><D:propfind {_CS_NS}>'
        "<D:prop><CS:getctag/></D:prop></D:propfind>"
    )


def etags_body() -> str:
    """A PROPFIND (Depth 1) for the CTag and every member's etag, without their data."""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><D:propfind {_CS_NS}>'
        "<D:prop><CS:getctag/><D:getetag/><D:resourcetype/></D:prop></D:propfind>"
    )


def sync_unsupported(status: int, preconditions: tuple[str, ...] | list[str]) -> bool:
    """Whether a failed sync-collection REPORT means "this server has no WebDAV sync".

    RFC 6578 servers refuse an unknown REPORT with 403 ``DAV:supported-report``
    (RFC 3253); others answer 400, 405 (method), 415 or 501 (not implemented).
    A 403 naming ``DAV:valid-sync-token`` is an expired token, not this.
    """
    if status == 403:
        return f"{_DAV}supported-report" in preconditions
    return status in (400, 405, 415, 501)


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
    ctag: str | None = None  # the collection's getctag, when asked for


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
    ctag: str | None = None
    own_path = unquote(urlsplit(collection_path).path).rstrip("/")
    for response in root.iter(f"{_DAV}response"):
        href = (response.findtext(f"{_DAV}href") or "").strip()
        is_collection = unquote(urlsplit(href).path).rstrip("/") == own_path
        direct = response.findtext(f"{_DAV}status")
        if direct is not None:
            status = _status(direct)
            if is_collection or href.endswith("/"):
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
            if is_collection:
                ctag = propstat.findtext(f"{_DAV}prop/{_CS}getctag") or ctag
            etag = propstat.findtext(f"{_DAV}prop/{_DAV}getetag") or etag
            data = propstat.findtext(f"{_DAV}prop/{_CAL}calendar-data") or data
        collection = response.find(f"{_DAV}propstat/{_DAV}prop/{_DAV}resourcetype/{_DAV}collection")
        if not (is_collection or href.endswith("/") or collection is not None):
            items.append(Item(href, status, etag, data))
    return Multistatus(items, root.findtext(f"{_DAV}sync-token"), truncated, ctag)


def _status(line: str) -> int:
    """``HTTP/1.1 404 Not Found`` -> 404 (0 when unreadable)."""
    parts = line.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
