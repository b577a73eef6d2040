"""The order's documents: the order sheet (発注書) with its fax-back block, the delivery note (納品書),
and the buyer's order form (注文書).

Plain data in, PDF bytes out; no database. The order sheet and the buyer's form are
paged fax-back forms: every page is a whole form that names its order (or form) and
its page in a code, so a page faxed back alone can be read. The modules hold one
part each: ``sheets`` (the data printed), ``geometry`` (where everything is on a
page, in millimetres), ``references`` (the codes that name an order or a form),
``fax_forms`` (the geometry as the fax-back readers in ``parsers`` take it) and
``rendering`` (Jinja2 templates to PDF through WeasyPrint).
"""
