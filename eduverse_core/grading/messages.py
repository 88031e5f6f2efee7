"""Learner-facing grading messages, in Korean and English.

Every sentence the grader shows a learner is here, so the wording is consistent and
translated in one place. This module imports only the standard library and nothing from the
package: the sandbox worker loads it by file path into a process that cannot import
``eduverse_core`` (see ``worker.py``).
"""

from __future__ import annotations

KO_EN: dict[str, tuple[str, str]] = {
    "test_failed": ("테스트를 통과하지 못했어요.", "A test did not pass."),
    "not_defined": (
        "`{name}`이(가) 정의되지 않았어요 — 정의했나요?",
        "`{name}` is not defined — did you define it?",
    ),
    "timeout_cpu": (
        "코드가 CPU 시간 {seconds}초를 넘겼어요. 끝나지 않는 반복문이 있나요?",
        "Your code used more than {seconds} s of CPU time — is there a loop that never ends?",
    ),
    "timeout_wall": (
        "코드가 {seconds}초 안에 끝나지 않았어요. 끝나지 않는 반복문이나 기다리는 코드가 있나요?",
        "Your code did not finish within {seconds} s — is there a loop that never ends,"
        " or code that waits?",
    ),
    "memory": (
        "코드가 메모리를 너무 많이 썼어요 (한도 {mib} MiB).",
        "Your code used too much memory (the limit is {mib} MiB).",
    ),
    "output": (
        "출력이 너무 많아요 (한도 {kib} KiB). 끝나지 않는 print 반복이 있나요?",
        "Your code printed too much (the limit is {kib} KiB) — is a print inside an endless loop?",
    ),
    "file_size": (
        "코드가 쓴 파일이 너무 커요 (한도 {kib} KiB).",
        "A file your code wrote is too large (the limit is {kib} KiB).",
    ),
    "processes": (
        "샌드박스에서는 새 프로세스나 프로그램을 실행할 수 없어요.",
        "Your code may not start new processes or programs in the sandbox.",
    ),
    "exit_before_tests": (
        "프로그램이 {how}(으)로 끝나서 테스트를 실행할 수 없었어요.",
        "Your program ended with {how}, so the tests could not run.",
    ),
    "stopped": (
        "프로그램이 비정상적으로 멈췄어요 (신호 {signal}).",
        "Your program stopped abnormally (signal {signal}).",
    ),
    "interfered": (
        "프로그램이 채점기를 방해해서 결과를 인정할 수 없어요.",
        "Your program interfered with the grader, so the result cannot be accepted.",
    ),
    "changed_during_tests": (
        "테스트가 실행되는 동안 프로그램이 파이썬 내장 함수나 테스트 도우미를 바꿔서"
        " 결과를 인정할 수 없어요.",
        "Your code changed Python's builtins or the test helpers while the tests ran, so the"
        " result cannot be accepted.",
    ),
    "grader_error": (
        "채점기에 문제가 생겼어요. 이번 시도는 세지 않아요.",
        "The grader failed; this attempt does not count.",
    ),
    "line": ("{line}번째 줄", "line {line}"),
    "line_column": ("{line}번째 줄, {column}번째 칸", "line {line}, column {column}"),
}
"""Message key → (Korean, English). ``{…}`` fields are filled by :func:`message`."""


def message(key: str, locale: str, **values: object) -> str:
    """The message ``key`` in ``locale`` (Korean for ``ko``, else English), filled in."""
    ko, en = KO_EN[key]
    return (ko if locale == "ko" else en).format(**values)


def exception_message(
    type_name: str, text: str, locale: str, line: int | None = None, column: int | None = None
) -> str:
    """``ExcType: message (line N)`` — the contract's shape for an exception in the learner's
    code. Only the learner's own line is ever given; never a grader traceback."""
    head = f"{type_name}: {text}" if text else type_name
    if line is None:
        return head
    if column is None:
        return f"{head} ({message('line', locale, line=line)})"
    return f"{head} ({message('line_column', locale, line=line, column=column)})"
