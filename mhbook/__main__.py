"""``python -m mhbook``: the same as the ``mhbook`` command."""

from mhbook.cli import main

main()
