"""dlink: keep the OCI source label of container images pointing at the right repository."""

__version__ = "0.1.0"
