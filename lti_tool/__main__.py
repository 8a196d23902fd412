"""``python -m lti_tool`` is the ``tandem`` command."""

from .cli import main

main()
