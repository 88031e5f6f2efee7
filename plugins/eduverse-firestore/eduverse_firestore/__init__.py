"""Cloud Firestore storage for EduVerse: ``EDUVERSE_STORAGE=firestore://PROJECT_ID``.

Installed, it registers itself through the ``eduverse`` entry-point group
(:mod:`eduverse_firestore.plugin`). :class:`~eduverse_firestore.storage.FirestoreStorage` is
the backend; :mod:`eduverse_firestore.layout` describes where everything lives.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("eduverse-firestore")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["__version__"]
