"""`dlink build-push` and `dlink verify`: build with the right labels, and prove what a registry holds."""
