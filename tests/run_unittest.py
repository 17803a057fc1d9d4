#!/usr/bin/python3
"""Runs one Python test file for ctest, and fails it when it tested nothing.

    python3 tests/run_unittest.py tests/integration/test_daemon.py

Like `python -m unittest -v FILE` (the file's folder goes first on sys.path, so it imports
its tier's helpers), with one rule more: a file whose every test case skipped FAILS (exit 1),
with the skip reasons listed. A suite that passes when every case skipped hides a missing
tool, binary or a broken gate; skips for a legitimately conditional case (the sanitizer
build, WSGID_SANITIZED=1; not root) stay skips as long as something else in the file ran.
A test case counts as skipped when it skipped as a whole, or when it ran subtests and every
one of them skipped.
Exit status: 0 when the file passed and ran at least one case; 1 otherwise; 2 on bad usage.
"""
import os
import sys
import unittest


class CountingResult(unittest.TextTestResult):
    """A verbose result that also keeps, per test case, how its subtests ended."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.subtests_run = {}      # test id -> subtests that reported
        self.subtests_skipped = {}  # test id -> of those, how many skipped

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        self.subtests_run[test.id()] = self.subtests_run.get(test.id(), 0) + 1

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        parent = getattr(test, "test_case", None)  # a skip inside self.subTest()
        if parent is not None:
            key = parent.id()
            self.subtests_run[key] = self.subtests_run.get(key, 0) + 1
            self.subtests_skipped[key] = self.subtests_skipped.get(key, 0) + 1


def skipped_cases(result):
    """Ids of the test cases that tested nothing (see the module comment)."""
    whole = {t.id() for t, _ in result.skipped if getattr(t, "test_case", None) is None}
    all_sub = {key for key, n in result.subtests_skipped.items()
               if n == result.subtests_run.get(key, 0)}
    return whole | all_sub


def main(argv):
    if len(argv) != 2 or not argv[1].endswith(".py"):
        print("usage: run_unittest.py TEST_FILE.py", file=sys.stderr)
        return 2
    path = os.path.abspath(argv[1])
    folder, name = os.path.split(path)
    sys.path.insert(0, folder)
    suite = unittest.defaultTestLoader.loadTestsFromName(name[:-3])
    runner = unittest.TextTestRunner(verbosity=2, resultclass=CountingResult)
    result = runner.run(suite)
    if not result.wasSuccessful():
        return 1
    empty = skipped_cases(result)
    if result.testsRun == 0 or len(empty) >= result.testsRun:
        print("\nrun_unittest.py: FAILED: %s ran %d test case(s) and every one skipped, so it "
              "tested nothing; the skip reasons:" % (name, result.testsRun), file=sys.stderr)
        for test, reason in result.skipped:
            print("  %s: %s" % (test.id(), reason), file=sys.stderr)
        return 1
    if result.skipped:
        print("run_unittest.py: %d of %d test case(s) skipped (the rest ran)"
              % (len(empty), result.testsRun), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
