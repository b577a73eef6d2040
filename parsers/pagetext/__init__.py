"""The words of an order's pages, with their places and confidences: from a PDF's text layer, or by OCR.

Start at ``document.read_document`` (the pages of an attachment) or ``document.page_from_image`` (one
page picture); what they give is ``page.PageText``. The modules, in the order a page goes through them:

- ``page``: ``PageText``, ``Word`` and ``Rule``, what a page reads as.
- ``document``: the entry points; a PDF page's text layer when it has a usable one, else OCR.
- ``words``: characters or blobs of ink into words and visual lines, the same for both sources.
- ``text_layer``: a PDF page read from its characters (pdfplumber).
- ``rules``: the ruled lines of tables, from a PDF's drawing or from a scan's ink.
- ``picture``, ``segments``, ``tesseract``, ``rereading``, ``agreement``: OCR's steps, which ``ocr``
  runs in order: the picture made upright and straight, the words cut out, read by Tesseract, read
  again where unsure, and weighed against the second reader (``parsers.recognizer``).

Nothing is re-exported here: importing ``parsers.pagetext.page`` (the data) does not load OpenCV.
"""
