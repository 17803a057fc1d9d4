"""A minimal Django 3.2 project served by wsgid (tests/integration/test_django.py).

No database: sessions live in signed cookies, and nothing else needs storage.
"""
