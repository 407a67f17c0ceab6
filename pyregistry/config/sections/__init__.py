"""One module per ``config.yml`` section: its typed settings class, which is also the only
description of the section's keys (see :mod:`pyregistry.config.declare`)."""
