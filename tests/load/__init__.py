"""Load and fault scenarios against the production processes (serve-prod:
gunicorn with several workers, trytond-cron, trytond-worker) on the
embedded PostgreSQL. ``python -m tests.load.rush`` runs the full on-sale
rush; tests/test_prod_rush.py runs a small one in the test suite."""
