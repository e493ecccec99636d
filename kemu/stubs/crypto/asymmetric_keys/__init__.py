"""crypto/asymmetric_keys/: the asymmetric key type's parsers and the public key subtype."""
