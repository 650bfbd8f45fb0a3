"""One module per source kind, all the same shape (see docs/architecture.md, "Source kinds"); `registry` resolves
specs and `normalise` turns parser output into stored form. Pure: bytes in, data out."""
