"""Due-process API, one module per audience: buyers (no key), sellers, admins."""
