"""Baogong (保供) back end: domain modules, the table, schemas and routes."""
