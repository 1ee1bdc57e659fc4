"""Off-machine copies of the store: remotes on S3 or a second directory (see docs/FORMAT.md,
"Remotes"). Nothing here is imported by the hook path but :mod:`.auto`'s kick."""
