"""minidl.kernels: optimizer update kernels (placeholder, being written)."""
