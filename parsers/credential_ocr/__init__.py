"""Reading the temporary ID (仮ID) off a returned FAX letter by OCR, when its QR code and reference are lost.

Start at ``reader.read_temp_id``, which says how a page is read and returns a
``reader.TempIdReading``; ``layout.CredentialLayout`` says where the letter prints the
ID. Its steps: ``band`` (the bottom of the page made straight, the panel's frame
found) and ``glyphs`` (the ID's line and its characters cut out for OCR);
``tesseract`` runs Tesseract on them.
"""
