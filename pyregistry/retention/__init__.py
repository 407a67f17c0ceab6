"""Retention policies: which tags and untagged manifests each repository keeps.

:mod:`~pyregistry.retention.policy` reads ``storage.maintenance.retention``;
:mod:`~pyregistry.retention.plan` decides per repository what goes and why (from push
times in storage); :mod:`~pyregistry.retention.apply` untags and deletes through the
storage layer; garbage collection then reclaims the space.
"""
