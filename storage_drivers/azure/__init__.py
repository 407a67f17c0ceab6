"""The ``azure`` driver: registry paths as block blobs in an Azure Storage container."""

from storage_drivers.azure.driver import AzureDriver

__all__ = ["AzureDriver"]
