"""Background work and the leases that coordinate it across workers and instances.

``lease`` (the interface), ``flock_lease``, ``storage_lease`` and ``redis_lease`` (the
three ways to hold one), ``leases`` (which one a deployment uses), ``scheduler`` (jobs
run every interval, once per cluster). Import the module you need: this package imports
nothing itself, so the storage layer can use a lease without importing the scheduler.
"""
