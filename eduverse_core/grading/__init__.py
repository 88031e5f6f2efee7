"""Server-side grading: the grader port, the test-code contract, feedback rendering."""

from .base import Grader, GradeRequest, GradeResult, GraderFactory, Limits

__all__ = ["GradeRequest", "GradeResult", "Grader", "GraderFactory", "Limits"]
