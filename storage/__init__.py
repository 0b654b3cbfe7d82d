"""Everything that persists: the database and the content repo."""
