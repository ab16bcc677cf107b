"""minidl.datasets (placeholder, being written)."""
