"""``python -m cnnzoo.cli`` is the ``cnnzoo`` command."""

from . import main

raise SystemExit(main())
