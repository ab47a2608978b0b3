"""``python -m noc`` is the ``noc`` command."""

from noc.cli import main

main()
