"""``python -m cnnzoo`` is the ``cnnzoo`` command."""

from .cli import main

raise SystemExit(main())
