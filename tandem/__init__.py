"""Tandem: open-source mentoring programmes inside learning platforms."""
