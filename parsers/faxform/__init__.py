"""Reading our returned fax-back forms: the box ticked, what is written in the fields, the reference.

A form is a ``FormGeometry`` (``geometry``); ``reader.read_form`` reads it back from
a page image into a ``readings.FormReading`` (``reader.read_faxback``: the
invitation letter's form, answers as ``Intent``). The steps, each a module:
``reference`` (QR code, clear text), ``locate`` (registration marks), ``streaks``
(lines the fax adds), ``boxes`` (ink in and around the answer boxes, the decision),
``fields`` with ``glyphs`` and ``digits`` (handwriting), over ``pixels``,
``transform`` and ``frame`` (the rectified form); ``ocr`` runs Tesseract.
"""
