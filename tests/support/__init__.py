"""Test support shared by test packages: real-server fixtures (S3, Redis, PostgreSQL) and helpers."""
