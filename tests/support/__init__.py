"""Helpers the tests start in other processes (a real Celery worker needs importable code)."""
