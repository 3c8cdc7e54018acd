"""Test support shared by several test domains (throwaway PostgreSQL clusters, ...)."""
