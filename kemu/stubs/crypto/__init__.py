"""crypto/: the Crypto API as modules use it (registration, transforms, self-tests)."""
