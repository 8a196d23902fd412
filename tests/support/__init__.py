"""Test support: database fixtures, factories, the test LTI platform."""
