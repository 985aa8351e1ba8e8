"""mhbook: mental-health inequalities in England, area by area, from public data.

Data flow (one way): ``catalogue`` and ``fetch`` -> ``sources`` (one parser per
publisher, tidy validated tables) -> ``measures`` and ``stats`` -> ``figures``
-> notebooks -> book.
"""

__version__ = "0.1.0"
