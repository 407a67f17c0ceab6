"""What the drivers of flat object stores (``gcs``, ``azure``) share: the store's few
blocking operations behind one interface (:class:`ObjectStore`), the driver contract
built on them (:class:`ObjectStoreDriver`: directories as name prefixes, ranged reads,
walks, moves as server-side copies), and writers that buffer pieces of ``chunksize``
(:class:`BufferedWriter`), each store keeping them its own way until commit."""

from storage_drivers.object_store.driver import ObjectStoreDriver
from storage_drivers.object_store.store import Listed, ObjectStore
from storage_drivers.object_store.writer import BufferedWriter

__all__ = ["BufferedWriter", "Listed", "ObjectStore", "ObjectStoreDriver"]
