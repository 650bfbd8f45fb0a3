"""`/brief` subcommands: parsing (pure) and what each one does."""
