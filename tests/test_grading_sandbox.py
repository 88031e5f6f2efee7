"""The sandbox grader: the test-code contract, the messages, and one test per attack.

Every attack test ends by checking that the same grader still passes a correct submission:
an attack must cost the attacker their own attempt, never the server its health.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from eduverse_core import Eduverse
from eduverse_core.grading import sandbox as sandbox_module
from eduverse_core.grading.base import GradeRequest, GradeResult, Limits
from eduverse_core.grading.sandbox import SandboxGrader, effective_limits
from eduverse_core.models import Outcome

from fakes import test_settings

FAST = Limits(cpu_seconds=1, wall_seconds=2)
GREETING_TEST = "assert stdout == 'hello\\n', 'print hello'"


@pytest.fixture(scope="module")
def grader() -> Iterator[SandboxGrader]:
    with SandboxGrader(workers=2) as sandbox:
        sandbox.warm()
        yield sandbox


def grade(
    grader: SandboxGrader, code: str, test: str = "", locale: str = "en", **options: object
) -> GradeResult:
    return grader.grade(GradeRequest(code, test, locale=locale, limits=FAST, options=options))


def assert_removed(folder: Path) -> None:
    """The worker removes a child's folder once it has reaped it: right after replying, or
    during a later job when the child was still exiting."""
    deadline = time.monotonic() + 5
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not folder.exists()


def assert_healthy(grader: SandboxGrader) -> None:
    result = grade(grader, "print('hello')", GREETING_TEST)
    assert result.outcome is Outcome.PASSED, result


# -- the contract ---------------------------------------------------------------------------
def test_a_correct_submission_passes_with_its_output(grader: SandboxGrader) -> None:
    result = grade(grader, "print('hello')", GREETING_TEST)
    assert result.outcome is Outcome.PASSED
    assert result.stdout == "hello\n"
    assert result.message == ""
    assert result.duration_ms >= 0


def test_namespace_has_source_code_student_code_stdout_and_helpers(grader: SandboxGrader) -> None:
    code = "def greet(name):\n    print('Hi', name)\n    return len(name)\n"
    code += "for i in range(1):\n    print('x')\n"
    test = "\n".join(
        [
            "assert source_code == student_code and 'def greet' in source_code",
            "assert stdout == 'x\\n'",
            "assert LOCALE == 'en'",
            "assert call_captured(greet, 'Ada') == (3, 'Hi Ada\\n')",
            "assert norm('  a   b \\r\\n') == 'a b' and lines('a\\n\\n b ') == ['a', 'b']",
            "assert close_enough(0.1 + 0.2, 0.3) and same_items([2, 1], [1, 2])",
            "assert uses('for') and uses('def') and not uses('while')",
            "assert calls('print') and calls('len') and not calls('input')",
            "assert tr('한국어', 'English') == 'English'",
        ]
    )
    assert grade(grader, code, test).outcome is Outcome.PASSED


def test_failed_assertion_shows_its_own_message(grader: SandboxGrader) -> None:
    result = grade(grader, "print('bye')", GREETING_TEST)
    assert result.outcome is Outcome.FAILED
    assert result.message == "print hello"
    assert result.stdout == "bye\n"


def test_assertion_without_message_gets_a_localised_one(grader: SandboxGrader) -> None:
    assert grade(grader, "x = 1", "assert x == 2").message == "A test did not pass."
    assert grade(grader, "x = 1", "assert x == 2", locale="ko").message == (
        "테스트를 통과하지 못했어요."
    )


def test_error_names_the_exception_and_the_learners_line(grader: SandboxGrader) -> None:
    result = grade(grader, "x = 1\ny = 2\nz = x / 0\n", "assert True")
    assert result.outcome is Outcome.ERROR
    assert result.message == "ZeroDivisionError: division by zero (line 3)"
    assert "worker" not in result.message and "Traceback" not in result.message


def test_error_inside_a_library_call_points_at_the_learners_line(grader: SandboxGrader) -> None:
    result = grade(grader, "import json\n\njson.loads('{')\n")
    assert result.outcome is Outcome.ERROR
    assert result.message.startswith("JSONDecodeError: ")
    assert result.message.endswith("(line 3)")


def test_error_in_a_function_the_tests_call_is_error_with_its_line(grader: SandboxGrader) -> None:
    code = "def area(w, h):\n    return w * hh\n"
    result = grade(grader, code, "assert area(2, 3) == 6")
    assert result.outcome is Outcome.ERROR
    assert result.message == "NameError: name 'hh' is not defined (line 2)"


def test_syntax_error_gives_line_and_column(grader: SandboxGrader) -> None:
    result = grade(grader, "x = 1\nprint('a'\n", "assert True")
    assert result.outcome is Outcome.ERROR
    assert result.message.startswith("SyntaxError: ")
    assert "(line 2, column 6)" in result.message
    ko = grade(grader, "x = = 1\n", locale="ko")
    assert "(1번째 줄, 5번째 칸)" in ko.message


def test_indentation_error_is_an_error_with_its_own_name(grader: SandboxGrader) -> None:
    result = grade(grader, "if True:\nprint(1)\n")
    assert result.outcome is Outcome.ERROR
    assert result.message.startswith("IndentationError: expected an indented block")


def test_name_error_raised_by_the_tests_is_failed_with_a_hint(grader: SandboxGrader) -> None:
    result = grade(grader, "def greeting():\n    return 'hi'\n", "assert greet() == 'hi'")
    assert result.outcome is Outcome.FAILED
    assert result.message == "`greet` is not defined — did you define it?"
    ko = grade(grader, "", "assert greet() == 'hi'", locale="ko")
    assert ko.message == "`greet`이(가) 정의되지 않았어요 — 정의했나요?"


def test_name_error_in_the_learners_own_code_is_error(grader: SandboxGrader) -> None:
    result = grade(grader, "print(answr)\n", "assert True")
    assert result.outcome is Outcome.ERROR
    assert result.message == "NameError: name 'answr' is not defined (line 1)"


def test_other_exception_raised_by_the_tests_is_failed(grader: SandboxGrader) -> None:
    result = grade(grader, "def greet():\n    return None\n", "assert greet()[0] == 'h'")
    assert result.outcome is Outcome.FAILED
    assert result.message == "TypeError: 'NoneType' object is not subscriptable"


def test_run_mode_just_runs_the_code(grader: SandboxGrader) -> None:
    result = grade(grader, "for i in range(3):\n    print(i)\n")
    assert (result.outcome, result.stdout) == (Outcome.PASSED, "0\n1\n2\n")
    assert grade(grader, "import sys\nprint('a')\nsys.exit(0)").outcome is Outcome.PASSED
    assert grade(grader, "raise ValueError('no')").message == "ValueError: no (line 1)"


def test_input_reads_the_stdin_option(grader: SandboxGrader) -> None:
    result = grade(grader, "name = input('Name? ')\nprint('Hi', name)", stdin="Ada\n")
    assert result.stdout == "Name? Hi Ada\n"
    eof = grade(grader, "input()")
    assert eof.message == "EOFError: EOF when reading a line (line 1)"


def test_common_library_modules_work(grader: SandboxGrader) -> None:
    code = "\n".join(
        [
            "import json, re, random, math, statistics, csv, io, string, itertools",
            "from collections import namedtuple, Counter",
            "from dataclasses import dataclass",
            "from datetime import date",
            "from enum import Enum",
            "P = namedtuple('P', 'x y')",
            "@dataclass",
            "class Q:",
            "    a: int = 1",
            "class Color(Enum):",
            "    RED = 1",
            "print(P(1, 2), Q(), Color.RED, Counter('aab')['a'], statistics.mean([1, 3]))",
            "print(date(2024, 1, 2).isoformat(), json.dumps({'k': [1]}), math.sqrt(16))",
        ]
    )
    result = grade(grader, code)
    assert result.outcome is Outcome.PASSED, result
    assert "P(x=1, y=2) Q(a=1) Color.RED 2 2" in result.stdout


def test_files_can_be_written_and_read_in_the_working_directory(grader: SandboxGrader) -> None:
    code = "\n".join(
        [
            "import os, pathlib",
            "with open('notes.txt', 'w') as f:",
            "    f.write('one\\ntwo\\n')",
            "pathlib.Path('more.txt').write_text('3')",
            "print(open('notes.txt').read().split(), pathlib.Path('more.txt').read_text())",
            "print(os.getcwd())",
        ]
    )
    result = grade(grader, code)
    assert result.outcome is Outcome.PASSED, result
    first, workdir = result.stdout.splitlines()
    assert first == "['one', 'two'] 3"
    assert_removed(Path(workdir))


def test_a_folder_the_learner_made_unreadable_and_deep_is_still_removed(
    grader: SandboxGrader,
) -> None:
    code = "\n".join(
        [
            "import os",
            "path = 'd'",
            "for _ in range(1500):",  # deeper than Python's recursion limit
            "    os.mkdir(path)",
            "    path += '/d'",
            "os.makedirs('locked/inner')",
            "open('locked/inner/secret.txt', 'w').write('x')",
            "os.chmod('locked/inner', 0)",
            "os.chmod('locked', 0)",
            "print(os.getcwd())",
        ]
    )
    result = grade(grader, code)
    assert result.outcome is Outcome.PASSED, result
    assert_removed(Path(result.stdout.strip()))
    assert_healthy(grader)


def test_test_code_that_does_not_compile_is_a_grader_error(grader: SandboxGrader) -> None:
    result = grade(grader, "x = 1", "assert x ==")
    assert result.outcome is Outcome.GRADER_ERROR
    assert result.message == "The grader failed; this attempt does not count."
    assert not result.outcome.counts_as_attempt


def test_tests_are_compiled_once_per_worker_and_judge_the_same() -> None:
    # A worker compiles a cycle's tests after its first submission; children forked after
    # that take them compiled (every submission to a cycle runs the same tests). Spares come
    # in batches of 2 here: the first two after the first job were forked before it, so the
    # fourth job on is sure to take them from the cache.
    tests = "def _twice(n):\n    return 2 * n\nassert answer(3) == _twice(3), 'answer doubles'"
    with SandboxGrader(workers=1, spares=2) as sandbox:
        verdicts = [
            grade(sandbox, code, tests)
            for code in ["def answer(n):\n    return n + n\n"] * 4
            + ["def answer(n):\n    return n\n"] * 2
        ]
        assert [v.outcome for v in verdicts] == [Outcome.PASSED] * 4 + [Outcome.FAILED] * 2
        assert {v.message for v in verdicts[4:]} == {"answer doubles"}
        assert sandbox.diagnostics()["tests_from_cache"] >= 3
        # Tests that do not compile are never cached: each submission gets the grader error.
        for _ in range(3):
            assert grade(sandbox, "x = 1", "assert x ==").outcome is Outcome.GRADER_ERROR


def _stat(pid: int | str) -> list[str]:
    """State, parent pid, ... of a process; [] when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def _alive(pid: int) -> bool:
    return _stat(pid)[:1] not in ([], ["Z"])


def _still_alive(pids: set[int]) -> list[int]:
    """Those of ``pids`` still running after up to 5 s (zombies count as gone)."""
    deadline = time.monotonic() + 5
    while any(map(_alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.01)
    return [pid for pid in pids if _alive(pid)]


def _children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat(entry.name)
        if fields and int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def test_spares_forked_in_batches_each_grade_one_job_and_are_all_cleaned_up() -> None:
    with SandboxGrader(workers=1, spares=3) as sandbox:
        results = [grade(sandbox, "import os\nprint(os.getpid(), os.getcwd())") for _ in range(10)]
        assert all(r.outcome is Outcome.PASSED for r in results), results
        pids = {int(r.stdout.split()[0]) for r in results}
        folders = {Path(r.stdout.split()[1]) for r in results}
        assert len(pids) == len(folders) == 10  # a process and a folder per job
        assert_healthy(sandbox)
        (worker,) = sandbox.diagnostics()["pids"]
        waiting = _children_of(worker)
        assert 1 <= len(waiting - pids) <= 3 + 3  # a batch of spares (and used ones exiting)
    base = next(iter(folders)).parent
    assert_removed(base)  # the spares still waiting went with their folders
    assert not _still_alive(waiting)
    with pytest.raises(ValueError, match="spares"):
        SandboxGrader(spares=0)
    with pytest.raises(ValueError, match="spares"):
        SandboxGrader(spares=65)


def test_workers_start_from_code_compiled_by_the_server_and_drop_its_descriptor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Compiling its own script left the compiler's freed memory resident in every worker
    # (see sandbox._BOOT): the server compiles it and hands it over on a memfd.
    with SandboxGrader(workers=1) as sandbox:
        assert_healthy(sandbox)
        (pid,) = sandbox.diagnostics()["pids"]
        assert "-c" in Path(f"/proc/{pid}/cmdline").read_text().split("\0")
        links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        assert not [link for link in links if "eduverse-worker-code" in link], links
    # Without memfds (another OS), the worker compiles its script as before.
    monkeypatch.setattr(sandbox_module, "_compiled_worker", lambda: None)
    with SandboxGrader(workers=1) as sandbox:
        assert_healthy(sandbox)
        (pid,) = sandbox.diagnostics()["pids"]
        assert str(sandbox_module.WORKER_SCRIPT) in Path(f"/proc/{pid}/cmdline").read_text()


def test_spares_killed_while_waiting_are_replaced(grader: SandboxGrader) -> None:
    # Something outside (an administrator, the OOM killer) kills the spares of a worker: the
    # next job finds its spare dead, and gets a child forked for it instead.
    for _ in range(2):
        assert_healthy(grader)
        killed = {pid for worker in grader.diagnostics()["pids"] for pid in _children_of(worker)}
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        assert not _still_alive(killed)
        assert_healthy(grader)


def test_a_refilled_cache_slot_never_serves_another_cycles_tests() -> None:
    # One slot, two cycles taking turns: the slot is refilled after every job, each time
    # after the next child was forked, so no child may take it -- all compile their own.
    first, second = "assert value == 1, 'one'", "assert value == 2, 'two'"
    with SandboxGrader(workers=1, tests_cache=1, spares=1) as sandbox:
        sandbox.warm()
        outcomes = [
            grade(sandbox, f"value = {n}", tests).outcome
            for _ in range(3)
            for n, tests in ((1, first), (2, second), (2, first), (1, second))
        ]
        assert outcomes == [Outcome.PASSED, Outcome.PASSED, Outcome.FAILED, Outcome.FAILED] * 3
        assert sandbox.diagnostics()["tests_from_cache"] == 0
        for _ in range(3):  # one cycle again: cached from its third job on
            assert grade(sandbox, "value = 1", first).outcome is Outcome.PASSED
        assert sandbox.diagnostics()["tests_from_cache"] >= 1
    with SandboxGrader(workers=1, tests_cache=0, spares=1) as sandbox:  # off
        for _ in range(3):
            assert grade(sandbox, "value = 1", first).outcome is Outcome.PASSED
        assert sandbox.diagnostics()["tests_from_cache"] == 0
    with pytest.raises(ValueError, match="tests_cache"):
        SandboxGrader(tests_cache=-1)


def test_grader_options_set_limits_within_caps() -> None:
    limits = effective_limits(Limits(), {"wall_seconds": 1, "memory_bytes": 10**12, "x": "y"})
    assert limits.wall_seconds == 1.0 and limits.memory_bytes == 2 * 1024**3
    with pytest.raises(ValueError, match="cpu_seconds"):
        effective_limits(Limits(), {"cpu_seconds": "lots"})


def test_bad_grader_options_are_a_grader_error(grader: SandboxGrader) -> None:
    assert grade(grader, "x = 1", cpu_seconds=-1).outcome is Outcome.GRADER_ERROR


def test_a_worker_that_cannot_start_is_a_grader_error_not_an_exception() -> None:
    with SandboxGrader(workers=1, python="/nonexistent/python") as broken:
        result = broken.grade(GradeRequest("print(1)", locale="ko"))
    assert result.outcome is Outcome.GRADER_ERROR
    assert result.message == "채점기에 문제가 생겼어요. 이번 시도는 세지 않아요."


def test_the_plugin_registers_the_sandbox_grader() -> None:
    with Eduverse(test_settings()) as ev:
        assert "sandbox" in ev.grader_factories
        assert isinstance(ev.grader("sandbox"), SandboxGrader)


def test_diagnostics_report_what_is_isolated(grader: SandboxGrader) -> None:
    info = grader.diagnostics()
    assert info["workers"] == 2 and info["running"] == 2
    assert info["network_isolated"] is (os.geteuid() == 0)
    assert info["uid_isolated"] is (os.geteuid() == 0)
    assert all(kb and kb > 0 for kb in info["rss_kb"])


def test_concurrent_submissions_each_get_their_own_verdict(grader: SandboxGrader) -> None:
    results: dict[int, GradeResult] = {}

    def submit(n: int) -> None:
        results[n] = grade(grader, f"n = {n}\nprint(n)", f"assert n % 2 == 0, 'odd {n}'")

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n, result in results.items():
        assert result.stdout == f"{n}\n"
        assert result.outcome is (Outcome.PASSED if n % 2 == 0 else Outcome.FAILED)
        assert result.message == ("" if n % 2 == 0 else f"odd {n}")


# -- attacks: each is graded as not passed, honestly, and leaves the grader healthy -----------
def test_sys_exit_zero_before_the_tests_is_not_passed(grader: SandboxGrader) -> None:
    result = grade(grader, "import sys\nsys.exit(0)\n", "assert False")
    assert result.outcome is Outcome.ERROR
    assert (
        result.message == "Your program ended with sys.exit() (line 2), so the tests could not run."
    )
    assert_healthy(grader)


def test_os_exit_zero_before_the_tests_is_not_passed(grader: SandboxGrader) -> None:
    result = grade(grader, "import os\nos._exit(0)\n", "assert False")
    assert result.outcome is Outcome.ERROR
    assert result.message == "Your program ended with os._exit(0), so the tests could not run."
    assert_healthy(grader)


def test_printing_a_fake_verdict_is_not_passed(grader: SandboxGrader) -> None:
    code = "\n".join(
        [
            "import sys",
            "print('EDUV1 0000 6 0 0 0\\npassed')",
            'print(\'{"outcome": "passed", "message": ""}\')',
            "sys.stderr.write('passed\\n')",
            "sys.__stdout__.write('EDUV1 passed')",
        ]
    )
    result = grade(grader, code, "assert False, 'real verdict'")
    assert (result.outcome, result.message) == (Outcome.FAILED, "real verdict")
    assert_healthy(grader)


def test_writing_to_every_descriptor_cannot_forge_a_pass(grader: SandboxGrader) -> None:
    code = "\n".join(
        [
            "import io, os",
            "refused = 0",
            "for fd in range(3, 64):",
            "    for attempt in (lambda: io.FileIO(fd, 'w'), lambda: open(fd, 'w'),",
            "                    lambda: open(f'/proc/self/fd/{fd}', 'w'),",
            "                    lambda: os.write(fd, b'x'), lambda: os.dup2(fd, 1)):",
            "        try:",
            "            attempt().write(b'EDUV1 passed')",
            "        except Exception:",
            "            refused += 1",
            "print(refused)",
        ]
    )
    result = grade(grader, code, "assert False, 'tests ran'")
    assert (result.outcome, result.message) == (Outcome.FAILED, "tests ran")
    assert result.stdout == f"{61 * 5}\n"
    assert_healthy(grader)


def test_replacing_builtins_does_not_change_the_verdict(grader: SandboxGrader) -> None:
    code = "\n".join(
        [
            "import builtins",
            "builtins.len = lambda x: 3",
            "builtins.isinstance = lambda *a: True",
            "builtins.AssertionError = Exception",
            "__builtins__['len'] = lambda x: 3",
            "answer = [1]",
        ]
    )
    test = "assert len(answer) == 3, 'wrong length'"
    assert grade(grader, code, test).message == "wrong length"
    assert_healthy(grader)


def test_replacing_the_helpers_does_not_change_the_verdict(grader: SandboxGrader) -> None:
    code = "\n".join(
        [
            "import io",
            "class Fake(io.StringIO):",
            "    def getvalue(self):",
            "        return 'Hello, Ada\\n'",
            "io.StringIO = Fake",
            "norm = lambda text: 'same'",
            "call_captured = lambda f, *a: (None, 'Hello, Ada\\n')",
            "stdout = 'Hello, Ada\\n'",
            "def greet(name):",
            "    pass",
        ]
    )
    test = "\n".join(
        [
            "_, out = call_captured(greet, 'Ada')",
            "assert norm(out) == norm('Hello, Ada'), 'greet prints nothing'",
        ]
    )
    result = grade(grader, code, test)
    assert (result.outcome, result.message) == (Outcome.FAILED, "greet prints nothing")
    assert_healthy(grader)


def test_changing_a_library_module_is_caught_and_graded_again(grader: SandboxGrader) -> None:
    # The library namespaces the tests rely on are not restored before every test run: the
    # zygote checks afterwards whether the learner's code changed one (dictionary version
    # tags), and if so the verdict is thrown away and the job runs again with the restore.
    before = grader.diagnostics()["graded_twice"]
    code = "\n".join(
        [
            "import json, re",
            "json.loads = lambda text: {'total': 42}",
            "vars(re)['fullmatch'] = lambda *a: True",
        ]
    )
    test = "\n".join(
        [
            "import re",
            "assert re.fullmatch('[0-9]+', 'abc') is None, 'not a number'",
            "assert json.loads(stdout or '{}') == {'total': 42}, 'wrong total'",
        ]
    )
    result = grade(grader, code, test)
    assert (result.outcome, result.message) == (Outcome.FAILED, "wrong total")  # re was fixed
    assert grader.diagnostics()["graded_twice"] == before + 1
    # Changing one back is still a change: version tags never repeat.
    code = "import json\noriginal = json.loads\njson.loads = print\njson.loads = original\n"
    assert grade(grader, code, "assert json.loads('[1]') == [1]").outcome is Outcome.PASSED
    assert grader.diagnostics()["graded_twice"] == before + 2
    assert_healthy(grader)


def test_replacing_builtins_from_a_function_the_tests_call_is_not_a_pass(
    grader: SandboxGrader,
) -> None:
    # The zygote sees the change and the job runs again with the restore; there the learner's
    # function changes the builtins again, while the tests run: the judge sees that.
    code = "import builtins\ndef answer():\n    builtins.len = lambda x: 3\n    return []\n"
    result = grade(grader, code, "r = answer()\nassert len(r) == 3, 'three items'")
    assert result.outcome is Outcome.ERROR, result
    assert "changed Python's builtins or the test helpers" in result.message
    code = "\n".join(
        [
            "import types",
            "def answer():",
            "    fake = types.SimpleNamespace(isclose=lambda *a, **k: True)",
            "    close_enough.__globals__['math'] = fake",
            "    return 5",
        ]
    )
    result = grade(grader, code, "assert close_enough(answer(), 1.0), 'far off'")
    assert result.outcome is Outcome.ERROR, result
    assert_healthy(grader)


def test_code_run_while_the_tests_are_prepared_cannot_swap_their_builtins(
    grader: SandboxGrader,
) -> None:
    # Putting sys back drops the learner's object: its finalizer runs in the step that
    # prepares the tests, reaches that step's frame and replaces what it finds there.
    code = "\n".join(
        [
            "import sys, builtins",
            "fake = dict(builtins.__dict__, len=lambda x: 3)",
            "class Sly:",
            "    def __del__(self):",
            "        frame = sys._getframe(1)",
            "        while frame is not None:",
            "            for value in list(frame.f_locals.values()):",
            "                if isinstance(value, dict) and 'builtins' in value:",
            "                    value['builtins'] = fake",
            "                    value['helpers'] = lambda *a: {'len': fake['len']}",
            "            frame = frame.f_back",
            "sys.sly = Sly()",
            "def answer():",
            "    return []",
        ]
    )
    result = grade(grader, code, "assert len(answer()) == 3, 'three items'")
    assert (result.outcome, result.message) == (Outcome.FAILED, "three items")
    assert_healthy(grader)


def test_tests_that_change_a_library_module_still_pass(grader: SandboxGrader) -> None:
    # The check cannot tell who changed a namespace: a test that does is graded twice (once
    # more with the restore), with the same verdict.
    before = grader.diagnostics()["graded_twice"]
    test = "import json\njson.helper_cache = {}\nassert stdout == 'hello\\n'"
    result = grade(grader, "print('hello')", test)
    assert result.outcome is Outcome.PASSED, result
    assert grader.diagnostics()["graded_twice"] == before + 1


def test_honest_submissions_are_graded_once(grader: SandboxGrader) -> None:
    info = grader.diagnostics()
    assert info["watched_namespaces"] >= 10  # CPython 3.11-3.13 on Linux: the check is on
    before = info["graded_twice"]
    code = "\n".join(
        [
            "import json, re, random, statistics, csv, io, string, itertools, math, functools",
            "from collections import Counter",
            "random.seed(7)",
            "rows = list(csv.reader(io.StringIO('a,b\\n1,2\\n')))",
            "def total(xs):",
            "    return sum(xs)",
            "print(json.dumps(Counter('aab')), re.sub('a', 'b', 'aa'), random.randint(1, 6))",
            "print(statistics.mean([1, 3]), rows, string.ascii_lowercase[:3], math.pi > 3)",
            "print(list(itertools.islice(itertools.count(), 3)), functools.reduce(max, [1, 5]))",
        ]
    )
    test = "\n".join(
        [
            "import json, re, statistics",
            "assert calls('print') and uses('def'), 'print and def'",
            "assert total([1, 2]) == 3 and close_enough(statistics.mean([1, 2]), 1.5)",
            "assert json.loads(lines(stdout)[0].split(' bb ')[0]) == {'a': 2, 'b': 1}",
            "assert re.fullmatch('[a-z]+', norm(' bb ')) is not None",
        ]
    )
    for _ in range(4):
        result = grade(grader, code, test)
        assert result.outcome is Outcome.PASSED, result
    assert grader.diagnostics()["graded_twice"] == before
    assert_healthy(grader)


def test_changing_the_helpers_code_is_refused(grader: SandboxGrader) -> None:
    code = "def answer():\n    close_enough.__defaults__ = (1.0, 1e9)\n    return 99\n"
    result = grade(grader, code, "assert close_enough(answer(), 1.0), 'far off'")
    assert result.outcome is Outcome.ERROR
    assert "PermissionError: not allowed in the sandbox" in result.message
    assert result.message.endswith("(line 2)")
    assert_healthy(grader)


def test_walking_frames_and_objects_cannot_forge_a_pass(grader: SandboxGrader) -> None:
    code = "\n".join(
        [
            "import sys",
            "def answer():",
            "    frame = sys._getframe()",
            "    while frame is not None:",
            "        for value in list(frame.f_locals.values()):",
            "            if isinstance(value, list):",
            "                value.clear()",
            "            if isinstance(value, dict):",
            "                value['tests'] = compile('pass', 't', 'exec')",
            "        frame = frame.f_back",
            "    for attempt in (lambda: sys._current_frames(), lambda: __import__('gc'),",
            "                    lambda: sys.settrace(print), lambda: __import__('ctypes')):",
            "        try:",
            "            attempt()",
            "        except Exception:",
            "            pass",
            "    return 1",
        ]
    )
    result = grade(grader, code, "assert answer() == 2, 'answer is 2'")
    assert result.outcome is not Outcome.PASSED
    assert_healthy(grader)


def test_a_refusals_traceback_leads_to_no_grader_state(grader: SandboxGrader) -> None:
    # A refused operation raises inside the audit hook: its frames are in the traceback.
    code = "\n".join(
        [
            "seen = set()",
            "try:",
            "    open('/etc/passwd')",
            "except PermissionError as exc:",
            "    tb = exc.__traceback__",
            "    while tb is not None:",
            "        if tb.tb_frame.f_globals is not globals():",
            "            seen.update(tb.tb_frame.f_globals)",
            "            local = tb.tb_frame.f_locals.items()",
            "            seen.update(k for k, v in local if type(v).__name__ == 'function')",
            "        tb = tb.tb_next",
            "print(sorted(seen))",
        ]
    )
    result = grade(grader, code)
    # Only the hook's own frame: empty globals, and no function whose closure could be
    # rewritten (cell_contents) among its locals.
    assert (result.outcome, result.stdout) == (Outcome.PASSED, "['__builtins__']\n")
    assert_healthy(grader)


def test_the_hooks_locals_cannot_widen_what_it_allows(grader: SandboxGrader) -> None:
    # The hook's locals are in a refusal's traceback: any container among them that the
    # learner could change in place (its working directory, the folders it may read) is a way
    # out. Widen every one, then try again to read and to write outside.
    shared = Path(tempfile.mkdtemp(prefix="eduverse-test-"))
    shared.chmod(0o777)  # the sandbox's uid may write here: only the hook stands in the way
    outside = shared / "escaped.txt"
    code = "\n".join(
        [
            f"wide = ('/', '/etc', {str(shared)!r})",
            "try:",
            "    open('/etc/hostname')",
            "except PermissionError as exc:",
            "    tb = exc.__traceback__",
            "    while tb.tb_next is not None:",
            "        tb = tb.tb_next",
            "    for value in tb.tb_frame.f_locals.values():",
            "        if isinstance(value, list):",
            f"            value[:] = [{str(shared)!r}, wide, ()][: len(value)]",
            "        if isinstance(value, dict):",
            "            value.clear()",
            "for attempt in (lambda: open('/etc/hostname').read(),",
            f"                lambda: open({str(outside)!r}, 'w').write('x')):",
            "    try:",
            "        attempt()",
            "        print('allowed')",
            "    except PermissionError as exc:",
            "        print('refused' if 'not allowed in the sandbox' in str(exc) else exc)",
        ]
    )
    try:
        result = grade(grader, code)
        assert (result.outcome, result.stdout) == (Outcome.PASSED, "refused\nrefused\n")
        assert not outside.exists()
    finally:
        shutil.rmtree(shared)
    assert_healthy(grader)


def test_learner_code_never_runs_inside_the_audit_hook(grader: SandboxGrader) -> None:
    code = "\n".join(
        [
            "import builtins, sys",
            "calls = []",
            "class Sly(str):",
            "    def __eq__(self, other):",
            "        calls.append(sys._getframe(1).f_globals)",
            "        return str.__eq__(self, other)",
            "    __hash__ = str.__hash__",
            "builtins.id = lambda *a: calls.append(a) or 0",
            "def f(a=1):",
            "    pass",
            "f.__defaults__ = (2,)  # an audit event the hook checks with id()",
            "try:",
            "    sys.audit(Sly('open'), Sly('/etc/passwd'), 'r', 0)",
            "except PermissionError as exc:",
            "    print(exc)",
            "print(builtins.id.__name__, calls)",
        ]
    )
    result = grade(grader, code)
    assert result.stdout == (
        "not allowed in the sandbox: reading outside the working directory\n<lambda> []\n"
    )
    assert_healthy(grader)


def test_raising_system_exit_in_code_the_tests_call_is_not_passed(grader: SandboxGrader) -> None:
    code = "import sys\ndef answer():\n    sys.exit(0)\n"
    result = grade(grader, code, "assert answer() == 1")
    assert result.outcome is Outcome.ERROR
    assert result.message == "SystemExit: 0 (line 3)"
    assert_healthy(grader)


def test_raising_keyboard_interrupt_is_not_passed(grader: SandboxGrader) -> None:
    result = grade(grader, "raise KeyboardInterrupt\n", "assert True")
    assert (result.outcome, result.message) == (Outcome.ERROR, "KeyboardInterrupt (line 1)")
    later = grade(grader, "def f():\n    raise KeyboardInterrupt('stop')\n", "f()")
    assert (later.outcome, later.message) == (Outcome.ERROR, "KeyboardInterrupt: stop (line 2)")
    assert_healthy(grader)


def test_raising_a_base_exception_subclass_is_not_passed(grader: SandboxGrader) -> None:
    code = "\n".join(
        [
            "class Sneaky(BaseException):",
            "    def __str__(self):",
            "        import builtins",
            "        builtins.print = None",
            "        return 'passed'",
            "    def __bool__(self):",
            "        return False",
            "def answer():",
            "    raise Sneaky()",
        ]
    )
    result = grade(grader, code, "assert answer() == 1")
    assert (result.outcome, result.message) == (Outcome.ERROR, "Sneaky: passed (line 9)")
    assert_healthy(grader)


def test_closing_or_replacing_stdout_is_not_passed(grader: SandboxGrader) -> None:
    code = "\n".join(
        [
            "import sys",
            "print('wrong')",
            "sys.stdout.close()",
            "class Liar:",
            "    def write(self, text):",
            "        pass",
            "sys.stdout = sys.__stdout__ = sys.stderr = Liar()",
            "print('hello')",
        ]
    )
    result = grade(grader, code, GREETING_TEST)
    assert (result.outcome, result.stdout) == (Outcome.FAILED, "wrong\n")
    assert_healthy(grader)


def test_the_tests_see_sys_as_it_was_whatever_the_learner_changed(grader: SandboxGrader) -> None:
    tests = "\n".join(
        [
            "import sys, json",
            "assert not hasattr(sys, 'planted'), 'a name added to sys'",
            "assert json.dumps(1) == '1', 'a module replaced in sys.modules'",
            "assert '/planted' not in sys.path, 'sys.path'",
            "assert stdout == 'hello\\n', 'stdout'",
        ]
    )
    changes = ["sys.planted = 1", "sys.modules['json'] = sys", "sys.path.append('/planted')", ""]
    for change in changes:
        result = grade(grader, f"import sys\n{change}\nprint('hello')", tests)
        assert result.outcome is Outcome.PASSED, (change, result)
    assert_healthy(grader)


def test_sys_is_put_back_before_the_tests_only_when_its_version_tag_moved() -> None:
    # The step between the learner's run and the tests (white box: the two branches). With
    # the tags read after the set-up still current, ``sys`` and ``sys.modules`` are left
    # alone; once either changed, or with no readable memory, it is put back.
    from types import MappingProxyType

    from eduverse_core.grading import worker

    memory = worker._own_memory()
    assert memory >= 0  # Linux, 64-bit CPython 3.11: what the project runs on
    fake_sys: dict[str, object] = {"name": 1}
    fake_modules: dict[str, object] = {"json": "the real json"}

    def prepare(tags: object, fd: int = memory) -> None:
        state = {
            "tests": True, "restore": (), "lists": (), "module": "learner main",
            "sys": (fake_sys, MappingProxyType({"name": 1})),
            "modules": (fake_modules, MappingProxyType({"json": "the real json"})),
            "test_out": "out", "test_err": "err", "stdin_text": "", "stdin_type": str,
            "parts": [], "ns": {}, "builtins": {}, "helpers": lambda *args: {},
            "source": "", "locale": "en", "memory": fd, "sys_tags": tags,
        }  # fmt: skip
        worker._prepare_tests(state)

    def tags() -> object:
        addresses = (id(fake_sys), id(fake_modules))
        return addresses, worker._read_tags(memory, addresses)

    try:
        fake_sys["planted"] = fake_modules["json"] = "learner's"  # before the set-up's read
        prepare(tags())
        assert fake_sys["planted"] == fake_modules["json"] == "learner's"  # left alone
        assert "__main__" not in fake_modules
        read = tags()
        fake_sys["later"] = "learner's"
        prepare(read)
        assert "planted" not in fake_sys and "later" not in fake_sys  # sys put back
        assert fake_modules["json"] == "learner's"  # sys.modules did not move since the read
        read = tags()
        fake_modules["json"] = "learner's again"
        prepare(read)
        assert fake_modules == {"json": "the real json", "__main__": "learner main"}
        fake_sys["planted"] = "learner's"
        prepare(tags(), fd=-1)  # unreadable: always put back
        assert "planted" not in fake_sys
        assert fake_sys["stdout"] == "out"  # the tests' streams, in every case
    finally:
        os.close(memory)


def test_an_infinite_loop_is_a_timeout(grader: SandboxGrader) -> None:
    # A generous wall limit, so the CPU limit is what stops the loop even on a loaded machine
    # (a busy neighbour can leave the child less than 1 s of CPU in 2 s of wall time).
    result = grade(grader, "while True:\n    pass\n", "assert True", wall_seconds=15)
    assert result.outcome is Outcome.TIMEOUT
    assert result.message.startswith("Your code used more than 1 s of CPU time")
    assert_healthy(grader)


def test_waiting_forever_is_a_timeout(grader: SandboxGrader) -> None:
    result = grade(grader, "import time\ntime.sleep(60)\n", "assert True", wall_seconds=1)
    assert result.outcome is Outcome.TIMEOUT
    assert result.message.startswith("Your code did not finish within 1 s")
    assert result.duration_ms < 3000
    assert_healthy(grader)


def test_deep_recursion_is_an_error_with_its_line(grader: SandboxGrader) -> None:
    code = "def down(n):\n    return down(n + 1)\n\ndown(0)\n"
    result = grade(grader, code, "assert True")
    assert result.outcome is Outcome.ERROR
    assert result.message == "RecursionError: maximum recursion depth exceeded (line 2)"
    assert_healthy(grader)


def test_a_lowered_recursion_limit_does_not_reach_the_judge(grader: SandboxGrader) -> None:
    # The learner's code runs in the thread that judges afterwards: a limit lowered as far as
    # Python allows, or a deep recursion with a raised one, must still get a plain verdict.
    lowest = "\n".join(
        [
            "import sys",
            "print('hello')",
            "depth = 1",
            "while True:",
            "    try:",
            "        sys.setrecursionlimit(depth)",
            "        break",
            "    except RecursionError:",
            "        depth += 1",
        ]
    )
    result = grade(grader, lowest, GREETING_TEST)
    assert (result.outcome, result.stdout) == (Outcome.PASSED, "hello\n")
    deep = "import sys\nsys.setrecursionlimit(10**6)\ndef down(n):\n    return down(n + 1)\ndown(0)"
    not_passed = (Outcome.ERROR, Outcome.LIMIT_EXCEEDED, Outcome.TIMEOUT)
    assert grade(grader, deep, "assert True").outcome in not_passed
    assert_healthy(grader)


def test_no_signal_handler_can_be_installed(grader: SandboxGrader) -> None:
    # A Python handler would run in the thread that judges, on a signal the learner's code
    # arranged (an alarm, a timer): there is no way to install one (the signal module's
    # function and the C one it wraps are both removed).
    code = "\n".join(
        [
            "import signal, _signal",
            "for module in (signal, _signal):",
            "    try:",
            "        module.signal(signal.SIGALRM, lambda *a: print('handler'))",
            "        print('installed')",
            "    except (AttributeError, ValueError):",
            "        print('refused')",
        ]
    )
    result = grade(grader, code, "assert True")
    assert (result.outcome, result.stdout) == (Outcome.PASSED, "refused\nrefused\n")
    assert_healthy(grader)


def test_a_memory_bomb_is_limit_exceeded(grader: SandboxGrader) -> None:
    big = grade(grader, "x = bytearray(10 ** 10)\n", "assert True")
    assert big.outcome is Outcome.LIMIT_EXCEEDED
    assert big.message == "Your code used too much memory (the limit is 256 MiB)."
    step = grade(grader, "keep = []\nwhile True:\n    keep.append(' ' * 10 ** 6)\n")
    assert step.outcome is Outcome.LIMIT_EXCEEDED
    assert_healthy(grader)


def test_a_fork_bomb_is_limit_exceeded_and_the_server_stays_healthy(grader: SandboxGrader) -> None:
    bomb = grade(grader, "import os\nwhile True:\n    os.fork()\n", "assert True")
    assert bomb.outcome is Outcome.LIMIT_EXCEEDED
    assert bomb.message == "Your code may not start new processes or programs in the sandbox."
    caught = "import os\ntry:\n    os.system('ls')\nexcept Exception:\n    pass\n"
    assert grade(grader, caught).outcome is Outcome.LIMIT_EXCEEDED
    assert grade(grader, "import subprocess").outcome is Outcome.LIMIT_EXCEEDED
    threads = "import threading\nthreading.Thread(target=print).start()\n"
    assert grade(grader, threads).outcome is Outcome.ERROR  # no thread either
    assert_healthy(grader)


def test_huge_output_is_limit_exceeded_even_when_caught(grader: SandboxGrader) -> None:
    result = grade(grader, "while True:\n    print('x' * 1000)\n")
    assert result.outcome is Outcome.LIMIT_EXCEEDED
    assert result.message.startswith("Your code printed too much (the limit is 64 KiB)")
    assert len(result.stdout) <= 64 * 1024
    caught = "for i in range(200):\n    try:\n        print('y' * 1000)\n"
    caught += "    except BaseException:\n        pass\n"
    assert grade(grader, caught).outcome is Outcome.LIMIT_EXCEEDED
    assert_healthy(grader)


def test_writing_outside_the_working_directory_fails(grader: SandboxGrader, tmp_path: Path) -> None:
    target = tmp_path / "owned.txt"
    for code in (
        f"open({str(target)!r}, 'w').write('x')",
        "open('../escape.txt', 'w').write('x')",
        "import os\nos.symlink('/etc/passwd', 'link')",
        "import os\nos.chdir('/tmp')",
        f"import pathlib\npathlib.Path({str(tmp_path)!r}, 'made').mkdir()",
    ):
        result = grade(grader, code, "assert True")
        assert result.outcome is Outcome.ERROR, code
        assert "PermissionError: not allowed in the sandbox" in result.message, code
    assert list(tmp_path.iterdir()) == []
    assert_healthy(grader)


def test_reading_the_servers_files_fails(grader: SandboxGrader, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    secret.chmod(0o644)
    for code in (f"print(open({str(secret)!r}).read())", "print(open('/etc/hostname').read())"):
        result = grade(grader, code)
        assert result.outcome is Outcome.ERROR and "s3cret" not in result.stdout
        assert "reading outside the working directory" in result.message
    assert_healthy(grader)


def test_the_environment_holds_no_secrets(
    grader: SandboxGrader, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDUVERSE_SECRET_KEY", "do-not-leak")
    result = grade(grader, "import os\nprint(sorted(os.environ))")
    assert result.stdout == "['HOME', 'LANG', 'TMPDIR']\n"
    # HOME and TMPDIR are the working directory, whatever a program does with them.
    code = "\n".join(
        [
            "import os, pathlib",
            "pathlib.Path('~/notes.txt').expanduser().write_text('hi')",
            "home = pathlib.Path.home().resolve()",
            "print(home == pathlib.Path.cwd(), open('notes.txt').read(), os.environ['TMPDIR'])",
        ]
    )
    assert grade(grader, code).stdout == "True hi .\n"
    assert_healthy(grader)


def test_the_network_is_not_reachable(grader: SandboxGrader) -> None:
    code = "import socket\nsocket.create_connection(('127.0.0.1', 80), timeout=1)\n"
    result = grade(grader, code)
    assert result.outcome is Outcome.ERROR
    assert "not allowed in the sandbox: importing socket" in result.message
    assert_healthy(grader)


def test_native_code_and_introspection_are_refused(grader: SandboxGrader) -> None:
    for code in (
        "import ctypes",
        "import gc\ngc.get_objects()",
        "import sys\nsys._current_frames()",
        "import sys\nsys.settrace(print)",
        "import marshal\nmarshal.loads(marshal.dumps(compile('1', 'x', 'eval')))",
        "(lambda: 0).__code__.replace(co_consts=(1,))",
    ):
        result = grade(grader, code)
        assert result.outcome is Outcome.ERROR, code
        assert "not allowed in the sandbox" in result.message, (code, result.message)
    assert_healthy(grader)


def test_native_code_cannot_be_fetched_from_the_interpreters_cache(grader: SandboxGrader) -> None:
    """``_imp.create_dynamic`` returns an extension module the interpreter loaded before
    without any audit event: the zygote must never have loaded ``_ctypes`` (it used to, for
    ``prctl``/``unshare``, which gave learner code raw memory access)."""
    import _ctypes

    path = getattr(_ctypes, "__file__", None)
    if path is None:  # built into this interpreter: nothing to fetch
        pytest.skip("_ctypes is a built-in module here")
    code = "\n".join(
        [
            "import _imp, importlib.machinery",
            f"spec = importlib.machinery.ModuleSpec('_ctypes', None, origin={path!r})",
            "print(sorted(vars(_imp.create_dynamic(spec)))[:1])",
        ]
    )
    result = grade(grader, code)
    assert result.outcome is Outcome.ERROR and result.stdout == "", result
    assert "not allowed in the sandbox: importing _ctypes" in result.message
    assert_healthy(grader)


def test_killing_the_parent_does_not_pass_and_the_grader_recovers(grader: SandboxGrader) -> None:
    pids = grader.diagnostics()["pids"]
    for code in (
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",
        "import os, signal\nos.killpg(os.getpgid(os.getppid()), signal.SIGKILL)\n",
        "import os, signal\nos.kill(-1, signal.SIGKILL)\n",
    ):
        result = grade(grader, code, "assert True")
        assert result.outcome is Outcome.ERROR, code
        assert "not allowed in the sandbox: os.kill" in result.message
    assert grader.diagnostics()["pids"] == pids  # nobody died
    # And when a worker does die (here: killed from outside), the next grading restarts it.
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.05)
    for _ in pids:
        assert_healthy(grader)
    assert set(grader.diagnostics()["pids"]).isdisjoint(pids)


@pytest.mark.parametrize(
    "code",
    [
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",
        "open('/tmp/eduverse-escape.txt', 'w')\n",
        "import _thread\n_thread.start_new_thread(print, ())\n",
        "import os\nos.fork()\n",
    ],
)
def test_without_uid_or_network_isolation_the_hook_still_refuses(code: str) -> None:
    """The weaker configuration (not root, or ``uid_base=None``): the audit hook alone."""
    with SandboxGrader(workers=1, uid_base=None, network=False) as weak:
        result = grade(weak, code, "assert True")
        assert result.outcome in (Outcome.ERROR, Outcome.LIMIT_EXCEEDED), result
        assert weak.diagnostics()["uid_isolated"] is False
        assert_healthy(weak)
    assert not Path("/tmp/eduverse-escape.txt").exists()


def test_workers_outlive_the_request_thread_that_started_them() -> None:
    """The development server runs each request in a thread of its own; a worker started
    while grading one request must still be there for the next (PR_SET_PDEATHSIG fires when
    the forking *thread* ends, so workers are started from one long-lived thread)."""

    with SandboxGrader(workers=1) as sandbox:
        results: list[GradeResult] = []
        first = threading.Thread(target=lambda: results.append(grade(sandbox, "x = 1")))
        first.start()
        first.join()
        pids = sandbox.diagnostics()["pids"]
        time.sleep(0.3)  # time for a parent-death signal to be delivered, were one sent
        assert results[0].outcome is Outcome.PASSED
        assert sandbox.diagnostics()["pids"] == pids and len(pids) == 1
        assert_healthy(sandbox)
        assert sandbox.diagnostics()["pids"] == pids
