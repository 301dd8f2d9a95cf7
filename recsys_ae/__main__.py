"""``python -m recsys_ae``: see :mod:`recsys_ae.cli`."""

from recsys_ae.cli import main

raise SystemExit(main())
