"""lib/kunit: the KUnit core, which Debian's kernel does not build (CONFIG_KUNIT unset)."""
