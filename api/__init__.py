"""The REST API over the ``detector`` library (FastAPI, ``create_app(settings)``).

It arrives with the service issue; the library it will wrap is usable on its own today.
"""

from __future__ import annotations
