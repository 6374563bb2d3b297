"""`dlink repo`: print the canonical URL of the repository holding a path."""
