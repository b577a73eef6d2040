"""MIME: any bytes of a mail to a ``ParsedMail`` (``parse.parse_mail``), never an exception.

``parsed_mail`` holds the result; ``parse`` walks the structure; the pieces it reads
with are ``encoded_words`` (RFC 2047 headers), ``params`` (RFC 2231 parameters),
``fields`` (addresses, dates, message ids), ``transfer`` (transfer encodings) and
``html_text`` (HTML bodies to text).
"""
