"""check_inflation: how large a PDF's streams become once decoded, found before any PDF library opens it.

PDFium inflates a page's whole content stream when it loads the page, and keeps the
objects it parses from it; pdfminer does the same. One page of a few megabytes whose
content inflates to 1 GiB of drawing operators takes either of them many minutes and
gigabytes. Here every stream of the file is found by its ``stream`` keyword (streams
are never inside object streams, so no cross-reference table is needed and a broken
file is read as well as a sound one) and decoded through its filters with every stage
cut at the limit: the cost is bounded by the limit, not by the bomb.

    check_inflation(data, per_page=64 MiB, total=256 MiB)   raises TooLarge, or returns the sizes

Flate, LZW, RunLength, ASCIIHex and ASCII85 are decoded (the filters that can inflate); an image
codec (DCT, JPX, JBIG2, CCITT) ends the chain, its pixels bounded by ``parsers.imaging``'s pixel
limits. An encrypted stream does not decode and counts as its stored size: the child process
that reads PDFs (``parsers.confined``) bounds what this cannot see.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from parsers.errors import TooLarge
from parsers.limits import mib

__all__ = ["StreamSizes", "check_inflation"]

_OBJ = re.compile(rb"(\d{1,10})\s+\d{1,5}\s+obj\b")
_STREAM = re.compile(rb"\bstream(?:\r\n|\n|\r)")
_ENDOBJ = re.compile(rb"\bendobj\b")
_LENGTH = re.compile(rb"/Length\s+(\d{1,12})(\s+\d+\s+R)?")
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[A-Za-z0-9]+)")
_NAME = re.compile(rb"/([A-Za-z0-9]+)")
_REF = re.compile(rb"(\d{1,10})\s+\d{1,5}\s+R\b")
_KIDS = re.compile(rb"/Kids\s*\[([^\]]*)\]")
_CONTENTS = re.compile(rb"/Contents\s*(\[[^\]]*\]|\d{1,10}\s+\d{1,5}\s+R)")
_TYPE_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
_ROOT_PAGES = re.compile(rb"/Type\s*/Catalog.*?/Pages\s+(\d{1,10})\s+\d{1,5}\s+R|"
                         rb"/Pages\s+(\d{1,10})\s+\d{1,5}\s+R.*?/Type\s*/Catalog", re.S)
_DICT_TEXT = 64 * 1024  # of an object without a stream, enough for any page or page tree node
_MAX_NODES = 200_000


@dataclass(frozen=True)
class StreamSizes:
    """Each stream object's size once decoded (cut just past the limit), and the pages' content objects."""

    inflated: dict[int, int]
    pages: list[list[int]]  # for each page in order, its content streams' object numbers ([] unknown)


def check_inflation(data: bytes, per_page: int, total: int) -> StreamSizes:
    """Raise ``TooLarge`` if a page's content inflates past ``per_page`` bytes, another single stream past
    ``per_page``, or all streams together past ``total``; otherwise the sizes found."""
    inflated: dict[int, int] = {}
    texts: dict[int, bytes] = {}
    spent = 0
    for number, header, raw in _objects(data, texts):
        if raw is None:
            continue
        size = _decoded_size(raw, _filters(header), per_page)
        inflated[number] = max(size, inflated.get(number, 0))
        spent += size
        if spent > total:
            raise TooLarge(f"too large: the PDF's streams inflate past {mib(total)} in all")
    pages = _page_contents(texts)
    for index, contents in enumerate(pages, start=1):
        if sum(inflated.get(n, 0) for n in contents) > per_page:
            raise TooLarge(f"too large: PDF page {index} content inflates past {mib(per_page)}")
    for number, size in inflated.items():
        if size > per_page:
            raise TooLarge(f"too large: PDF object {number} inflates past {mib(per_page)}")
    return StreamSizes(inflated, pages)


def _objects(data: bytes, texts: dict[int, bytes]) -> Iterator[tuple[int, bytes, bytes | None]]:
    """Each ``N G obj``: its number, its dictionary's text, and its stream's stored bytes (None: no stream).

    The text of objects without a stream goes into ``texts`` (the page tree is found there).
    """
    pos = 0
    while True:
        found = _OBJ.search(data, pos)
        if found is None:
            return
        number, start = int(found.group(1)), found.end()
        # A dictionary is short: looking no further keeps a file without "endobj" from being read once per object.
        window = min(len(data), start + _DICT_TEXT)
        end = _ENDOBJ.search(data, start, window)
        stream = _STREAM.search(data, start, end.start() if end else window)
        if stream is None:
            texts[number] = data[start:end.start() if end else window]
            pos = end.end() if end else start
            continue
        header = data[start:stream.start()]
        begin = stream.end()
        length = _LENGTH.search(header)
        finish = -1
        if length is not None and length.group(2) is None:
            finish = begin + int(length.group(1))
            if b"endstream" not in data[finish:finish + 32]:
                finish = -1  # a /Length that lies: the keyword says where it ends
        if finish < 0:
            finish = data.find(b"endstream", begin)
            finish = len(data) if finish < 0 else finish
        yield number, header, data[begin:finish]
        pos = max(finish, begin)


def _filters(header: bytes) -> list[str]:
    found = _FILTER.search(header)
    return [name.decode("ascii") for name in _NAME.findall(found.group(1))] if found else []


def _decoded_size(raw: bytes, filters: list[str], limit: int) -> int:
    """The stream's size after its filters, each stage cut just past ``limit`` (what a reader would hold)."""
    decoders = [_DECODERS.get(name) for name in filters]
    # An image codec, a crypt filter or nonsense ends the chain: the pixel limits and the child process bound it.
    chain = decoders[:decoders.index(None)] if None in decoders else decoders
    data = raw
    for number, decode in enumerate(chain, start=1):
        assert decode is not None
        if number == len(chain) and decode is _flate:
            return _flate_size(data, limit + 1)  # the last stage is only counted
        data = decode(data, limit + 1)
        if len(data) > limit:
            return len(data)
    return len(data)


def _flate(data: bytes, cap: int) -> bytes:
    decompressor = zlib.decompressobj()
    out = bytearray()
    pending = data
    try:
        while pending and len(out) < cap and not decompressor.eof:
            out += decompressor.decompress(pending, cap - len(out))
            pending = decompressor.unconsumed_tail
    except zlib.error:
        pass  # readers keep what inflated before the damage, and so does the count
    return bytes(out)


def _flate_size(data: bytes, cap: int) -> int:
    """How many bytes ``data`` inflates to, counted a megabyte at a time up to ``cap``."""
    decompressor = zlib.decompressobj()
    size = 0
    pending = data
    try:
        while pending and size < cap and not decompressor.eof:
            size += len(decompressor.decompress(pending, min(1 << 20, cap - size)))
            pending = decompressor.unconsumed_tail
    except zlib.error:
        pass
    return size


def _lzw(data: bytes, cap: int) -> bytes:
    """LZW as PDF has it (early change, 9 to 12 bit codes, 256 clears, 257 ends)."""
    out = bytearray()
    table: list[bytes] = [bytes([i]) for i in range(256)] + [b"", b""]
    width, buffer, bits, previous = 9, 0, 0, b""
    for byte in data:
        buffer, bits = (buffer << 8) | byte, bits + 8
        while bits >= width:
            bits -= width
            code = buffer >> bits
            buffer &= (1 << bits) - 1
            if code == 256:
                table, width, previous = table[:258], 9, b""
                continue
            if code == 257:
                return bytes(out[:cap])
            if code < len(table):
                entry = table[code]
            elif code == len(table) and previous:
                entry = previous + previous[:1]
            else:
                return bytes(out[:cap])  # corrupt: what came before counts
            out += entry
            if len(out) > cap:
                return bytes(out[:cap])
            if previous and len(table) < 4096:
                table.append(previous + entry[:1])
            previous = entry
            width = 12 if len(table) >= 2047 else 11 if len(table) >= 1023 else 10 if len(table) >= 511 else 9
    return bytes(out[:cap])


def _run_length(data: bytes, cap: int) -> bytes:
    out = bytearray()
    at = 0
    while at < len(data) and len(out) <= cap:
        length = data[at]
        if length == 128:
            break
        if length < 128:
            out += data[at + 1:at + 2 + length]
            at += 2 + length
        else:
            out += data[at + 1:at + 2] * (257 - length)
            at += 2
    return bytes(out[:cap])


def _ascii_hex(data: bytes, cap: int) -> bytes:
    digits = re.sub(rb"[^0-9A-Fa-f]", b"", data.split(b">", 1)[0])
    try:
        return binascii.unhexlify(digits + b"0" * (len(digits) % 2))[:cap]
    except binascii.Error:
        return b""


def _ascii85(data: bytes, cap: int) -> bytes:
    text = re.sub(rb"\s", b"", data).removeprefix(b"<~").split(b"~>", 1)[0]
    try:
        return base64.a85decode(text)[:cap]
    except ValueError:
        return b""


_DECODERS = {
    "FlateDecode": _flate, "Fl": _flate, "LZWDecode": _lzw, "LZW": _lzw, "RunLengthDecode": _run_length,
    "RL": _run_length, "ASCIIHexDecode": _ascii_hex, "AHx": _ascii_hex, "ASCII85Decode": _ascii85, "A85": _ascii85,
}


def _page_contents(texts: dict[int, bytes]) -> list[list[int]]:
    """Each page's content stream object numbers, in page order, from the page tree; [] when it is not found
    (page objects inside object streams, a broken tree): then only single streams and the total are checked."""
    root = next((m for text in texts.values() if (m := _ROOT_PAGES.search(text))), None)
    if root is None:
        return []
    pages: list[list[int]] = []
    stack: list[int] = [int(root.group(1) or root.group(2))]
    seen: set[int] = set()
    while stack and len(seen) < _MAX_NODES:
        number = stack.pop()
        if number in seen or number not in texts:
            continue
        seen.add(number)
        text = texts[number]
        kids = _KIDS.search(text)
        if kids is not None:
            stack.extend(reversed([int(n) for n in _REF.findall(kids.group(1))]))
        elif _TYPE_PAGE.search(text):
            pages.append(_contents_of(text, texts))
    return pages


def _contents_of(text: bytes, texts: dict[int, bytes]) -> list[int]:
    found = _CONTENTS.search(text)
    if found is None:
        return []
    refs = [int(n) for n in _REF.findall(found.group(1))]
    if len(refs) == 1 and refs[0] in texts and texts[refs[0]].lstrip().startswith(b"["):
        return [int(n) for n in _REF.findall(texts[refs[0]])]  # /Contents 7 0 R where 7 is an array
    return refs
