"""Hostile inputs, made on demand: what an attacker or a broken fax machine sends to a gateway.

Each maker returns bytes (a file, or a whole mail) in milliseconds, however large the
input would be once decoded: the 1 GiB decompression bomb is a 1 MB PDF made without
ever holding 1 GiB. Nothing big is committed; tests and ``bench/hostile.py`` make them
as they need them.

    bomb_pdf()              one page whose content stream inflates to 1 GiB (path operators)
    bomb_pdf(content=b" ")  the same inflating to whitespace: cheap to parse, heavy in memory
    slow_pdf()              one page of a few MiB of drawing: small once inflated, slow to read
    image_bomb_pdf()        one page embedding a 100,000 × 100,000 pixel image
    many_pages_pdf(n)       n empty pages
    encrypted_pdf()         a one-page PDF that needs its user password
    huge_tiff()             a TIFF whose header claims 1,000,000 × 1,000,000 pixels
    fax_mail(data, ...)     an attachment as a fax-to-email service delivers it
    many_parts_mail(n)      a multipart mail of n parts
    deep_mail(depth)        multiparts nested depth levels deep
    huge_header_mail(n)     a mail whose header block is n bytes
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Sequence
from email.message import EmailMessage

__all__ = ["MiB", "GiB", "bomb_pdf", "slow_pdf", "image_bomb_pdf", "many_pages_pdf", "encrypted_pdf", "huge_tiff",
           "fax_mail", "many_parts_mail", "deep_mail", "huge_header_mail", "pdf_document", "deflate_repeated"]

MiB = 1024 * 1024
GiB = 1024 * MiB

# A drawing operator sequence: cheap to store, costly for every PDF reader to interpret.
DRAWING = b"0 0 m 595 842 l S\n"


def deflate_repeated(chunk: bytes, times: int) -> bytes:
    """A zlib stream of ``chunk`` repeated ``times`` times, made without holding the whole.

    After a full flush deflate keeps no back-references, so the compressed form of the second
    chunk stands for every following one; only the checksum needs the whole, and Adler-32
    runs over the chunk ``times`` times at memory speed.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush(zlib.Z_FINISH)
    adler = 1
    for _ in range(times):
        adler = zlib.adler32(chunk, adler)
    return b"\x78\xda" + first + again * (times - 1) + tail + struct.pack(">I", adler)


def _repeated(unit: bytes, size: int) -> tuple[bytes, int]:
    """A chunk of about 1 MiB made of whole ``unit``\\ s, and how many of them make ``size`` bytes."""
    chunk = unit * max(1, MiB // len(unit))
    return chunk, max(1, size // len(chunk))


def pdf_document(pages: Sequence[bytes], *, extra: Sequence[bytes] = (), trailer: bytes = b"",
                 media_box: bytes = b"[0 0 595 842]", resources: bytes = b"<< >>") -> bytes:
    """A PDF whose pages have the given content streams (each a whole ``<< ... >> stream ... endstream``).

    Objects: 1 catalog, 2 page tree, then each page and its content, then ``extra`` objects.
    """
    count = len(pages)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % (3 + 2 * i)
                                                                          for i in range(count)), count)]
    for index, content in enumerate(pages):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources %s /Contents %d 0 R >>"
                       % (media_box, resources, 4 + 2 * index))
        objects.append(content)
    objects.extend(extra)
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def _stream(data: bytes, dictionary: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), dictionary) + data + b"\nendstream"


def bomb_pdf(inflated: int = GiB, content: bytes = DRAWING, *, twice: bool = False) -> bytes:
    """One A4 page whose content stream inflates to ``inflated`` bytes of ``content`` repeated.

    ``twice``: the stream is deflated twice (``/Filter [/FlateDecode /FlateDecode]``), so the
    file is a few kilobytes instead of about a megabyte.
    """
    chunk, times = _repeated(content, inflated)
    data = deflate_repeated(chunk, times)
    if twice:
        return pdf_document([_stream(zlib.compress(data, 9), b"/Filter [/FlateDecode /FlateDecode] ")])
    return pdf_document([_stream(data, b"/Filter /FlateDecode ")])


def slow_pdf(inflated: int = 8 * MiB) -> bytes:
    """One page of ``inflated`` bytes of drawing: under any sane inflation limit, and still minutes to read."""
    return bomb_pdf(inflated, DRAWING)


def image_bomb_pdf(width: int = 100_000, height: int = 100_000) -> bytes:
    """One page showing an image whose dictionary claims ``width`` × ``height`` gray pixels (a few KB of zeros)."""
    chunk, _ = _repeated(b"\0", MiB)
    pixels = deflate_repeated(chunk, 1)
    image = _stream(pixels, b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                            b"/BitsPerComponent 8 /Filter /FlateDecode " % (width, height))
    page = _stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    return pdf_document([page], extra=[image], resources=b"<< /XObject << /Im0 5 0 R >> >>")


def many_pages_pdf(count: int = 10_000) -> bytes:
    """``count`` A4 pages, each empty."""
    return pdf_document([_stream(b"")] * count)


_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    box = list(range(256))
    j = 0
    for i in range(256):
        j = (j + box[i] + key[i % len(key)]) % 256
        box[i], box[j] = box[j], box[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + box[i]) % 256
        box[i], box[j] = box[j], box[i]
        out.append(byte ^ box[(box[i] + box[j]) % 256])
    return bytes(out)


def encrypted_pdf(user_password: bytes = b"secret", owner_password: bytes = b"owner") -> bytes:
    """A one-page PDF encrypted with the standard handler (RC4 40-bit, revision 2) and a user password."""
    file_id = hashlib.md5(b"torii-hostile-encrypted").digest()
    permissions = -44

    def padded(password: bytes) -> bytes:
        return (password + _PAD)[:32]

    owner = _rc4(hashlib.md5(padded(owner_password)).digest()[:5], padded(user_password))
    key = hashlib.md5(padded(user_password) + owner + struct.pack("<i", permissions) + file_id).digest()[:5]
    user = _rc4(key, _PAD)
    content = _rc4(hashlib.md5(key + (4).to_bytes(3, "little") + (0).to_bytes(2, "little")).digest()[:10],
                   b"0 0 m 300 300 l S")
    handler = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>" % (owner.hex().encode(), user.hex().encode(),
                                                                          permissions)
    ident = file_id.hex().encode()
    return pdf_document([_stream(content)], extra=[handler], trailer=b"/Encrypt 5 0 R /ID [<%s> <%s>] " % (ident,
                                                                                                          ident))


def huge_tiff(width: int = 1_000_000, height: int = 1_000_000) -> bytes:
    """A little-endian bilevel TIFF whose header claims ``width`` × ``height`` pixels, with one strip of a few
    bytes: what a fax TIFF with a corrupt header, or a decompression bomb, looks like to a reader."""
    strip = b"\x00" * 64
    entries = [
        (256, 4, 1, width),  # ImageWidth, LONG
        (257, 4, 1, height),  # ImageLength
        (258, 3, 1, 1),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 0),  # PhotometricInterpretation: white is zero
        (273, 4, 1, 8),  # StripOffsets: right after the header
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, height),  # RowsPerStrip
        (279, 4, 1, len(strip)),  # StripByteCounts
    ]
    ifd_offset = 8 + len(strip)
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        packed = struct.pack("<HI", value, 0)[:4] if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, count) + packed
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", ifd_offset) + strip + ifd


def fax_mail(data: bytes, filename: str = "fax.pdf", content_type: str = "application/pdf", *,
             to: str = "fax-orders@torii.localhost", sender: str = "03-5555-0101",
             message_id: str | None = None) -> bytes:
    """``data`` attached to a mail as a fax-to-email service delivers a received fax."""
    message = EmailMessage()
    message["From"] = "fax@faxservice.example"
    message["To"] = to
    message["Subject"] = f"FAX受信 送信元:{sender}"
    if message_id:
        message["Message-ID"] = f"<{message_id}>"
    message.set_content("FAXを受信しました。")
    maintype, subtype = content_type.split("/")
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def _head(to: str, subject: str, message_id: str | None) -> bytes:
    head = f"From: partner@partner.example\r\nTo: {to}\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n"
    if message_id:
        head += f"Message-ID: <{message_id}>\r\n"
    return head.encode()


def many_parts_mail(parts: int = 5000, *, to: str = "someone@torii.localhost", message_id: str | None = None) -> bytes:
    """A multipart/mixed mail of ``parts`` small text parts."""
    boundary = b"torii-many-parts"
    body = b"".join(b"--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\npart %d\r\n" % (boundary, n)
                    for n in range(parts))
    return (_head(to, f"{parts} parts", message_id)
            + b"Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n" % boundary + body + b"--%s--\r\n" % boundary)


def deep_mail(depth: int = 5000, *, to: str = "someone@torii.localhost", message_id: str | None = None) -> bytes:
    """multipart/mixed nested ``depth`` levels deep, a text part at the bottom."""
    opening = b"".join(b"Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n" % (n, n)
                       for n in range(depth))
    closing = b"".join(b"\r\n--b%d--\r\n" % n for n in reversed(range(depth)))
    return (_head(to, f"nested {depth} deep", message_id) + opening
            + b"Content-Type: text/plain\r\n\r\nthe bottom" + closing)


def huge_header_mail(size: int = 8 * MiB, *, to: str = "someone@torii.localhost",
                     message_id: str | None = None) -> bytes:
    """A mail whose header block is about ``size`` bytes: one folded Subject line, and many short headers."""
    folded = b"Subject: " + b"\r\n ".join([b"x" * 70] * (size // 2 // 73)) + b"\r\n"
    many = b"".join(b"X-Filler-%d: %s\r\n" % (n, b"y" * 40) for n in range(size // 2 // 58))
    return _head(to, "huge header", message_id).replace(b"Subject: huge header\r\n", b"") + folded + many \
        + b"\r\nbody\r\n"
