"""Reading a buyer's own, free-form order sheet from the words on its pages (a text layer, or OCR).

Start at ``reader.read_free_form``; what it gives is ``readings.FreeFormReading``, every value a
``readings.Field``. The sheet's parts, each a module: ``table`` (the item table under its header),
``list_lines`` (item lines without a header), ``delivery`` (the delivery date) and ``parties``
(buyer, buyer's fax number, addressee, notes). They read with ``lines`` (the pages' words as lines,
and fields cut from them) and ``cells`` (an item's name, a quantity and its unit, a number).
"""
