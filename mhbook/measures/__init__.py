"""Area-level measures built from the tidy source tables and ``mhbook.stats``.

Each function returns a tidy numeric table (or a small dataclass of numbers). Chapters
moved to the page layer (``mhbook.pages``) take their words, display tables and charts
from there, and their measures hold none; the other chapters' notebooks still call their
measures module directly (see DEVELOPING.md, "The page layer").
"""
