"""The summary table counts what ran: KUnit cases per suite."""
import unittest

from kt_report import summary_row


class KunitColumn(unittest.TestCase):
    def row(self, tests):
        return summary_row({"job": "j", "error": "failed", "stages": {},
                            "tests": tests, "seconds": 1})[7]

    def test_cases_count_per_suite_and_suite_results_do_not(self):
        # x86_64's two suites as a fresh make printed them, "6/6 (8 skip)"
        # before: each suite's "(suite)" result took the other's place
        tests = {"kunit.a": {"x": ("pass", ""), "y": ("skip", "why"),
                             "(suite)": ("pass", "")},
                 "kunit.b": {"x": ("pass", ""), "y": ("skip", "why"),
                             "z": ("fail", "EXPECTATION FAILED"),
                             "(suite)": ("skip", "")}}
        self.assertEqual(self.row(tests), "2/3 (2 skip) FAIL")

    def test_a_suite_that_did_not_run_counts(self):
        tests = {"kunit.a": {"x": ("pass", "")},
                 "kunit.b": {"(suite)": ("fail", "no KTAP result")}}
        self.assertEqual(self.row(tests), "1/2 FAIL")


if __name__ == "__main__":
    unittest.main()
