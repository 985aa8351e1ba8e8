"""Area-level measures built from the tidy source tables and ``mhbook.stats``.

These are what the notebooks call: each function returns a tidy table (or a small
dataclass of headline numbers) ready to be shown, glued into prose, or drawn.
"""
