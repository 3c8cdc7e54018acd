"""Versioned SQL migrations of the Supabase `ops_audit` schema, their runner and the chain verifier."""
