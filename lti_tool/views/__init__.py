"""Thin views: parse the request, call one service, render. Each module exports ``bp``."""
