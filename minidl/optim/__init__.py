"""minidl.optim (placeholder, being written)."""
