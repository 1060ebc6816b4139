"""Apply: executing a plan against the cloud, with its journal and run log."""
