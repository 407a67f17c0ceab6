"""``python -m pyregistry``."""

from pyregistry.cli import main

raise SystemExit(main())
