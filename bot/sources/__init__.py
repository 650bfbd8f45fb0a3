"""One module per source kind, all the same shape (see docs/architecture.md, "Source kinds"); `registry` resolves
specs and `item` turns parser output into stored form (`normalise_entry` → `NormalisedItem`). Pure: bytes in,
data out."""
