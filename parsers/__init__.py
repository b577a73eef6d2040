"""Reading inbound mail: bytes → ParsedMail → what the sender meant.

    charsets   bytes and headers to text, whatever the label says
    normalize  one form for matching (NFKC, spaces, line endings)
    mime       parse_mail: structure, headers, body text, attachments
    quotes     strip_quoted / reply_text: only what the sender newly wrote
    automatic  classify_automatic: bounces, auto-replies, list mail
    intent     read_invitation_answer: approve / reject / hold, contact person
    registry   the Parser protocol and the explicit registry to choose from

Nothing here raises on any input bytes: problems are recorded as defects.
"""
