"""Background work and the leases that coordinate it across workers and instances.

``lease`` (the interface), ``flock_lease``, ``storage_lease`` and ``redis_lease`` (three
ways to hold one), ``leases`` (which one a deployment uses), ``upload_leases`` (one
writer per upload session), ``scheduler`` (jobs run every interval, once per cluster) and
``plugins`` (jobs from the ``pyregistry.jobs`` entry points). See
``docs/background-tasks.md``. This package imports nothing itself: import the module
you need.
"""
