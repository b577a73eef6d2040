"""Reading a supplier's answer to an order sheet: confirm, partial (quantities per line) or decline.

``reader.read_order_answer`` is the entry point and says how an answer is read;
``answer`` holds what it returns. The other modules are its steps, in order:
``scanning`` (sentences to tokens, with ``vocabulary`` and ``items``),
``binding`` (which items each word speaks of), ``reading`` (what is said of each
line) and ``deciding`` (the intent and its confidence).
"""
