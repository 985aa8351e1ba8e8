"""The page layer: one module per chapter, holding what turns the chapter's numbers into a page.

A chapter module takes the tidy numeric tables of ``mhbook.measures`` and holds everything
a reader sees that is not in the notebook's fixed text: sentences glued into the text,
display tables (rounded, "suppressed" written out), captions, and the calls that draw
and publish charts (``mhbook.figures``). Its notebook calls it once per glued block,
table or chart and holds no logic. Measures hold no words; pages compute no statistics.
"""
