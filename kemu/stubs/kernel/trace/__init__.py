"""kernel/trace/: tracing, which kemu never turns on."""
