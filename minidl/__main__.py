"""``python -m minidl``: the same command line as the ``minidl`` script."""
from .cli import main

raise SystemExit(main())
