"""`bench.mutation --propose-message-text`: which survivors it offers as message-text candidates
(a string of words reworded by mutmut, nothing else) and which it leaves to a person (no I/O)."""

from __future__ import annotations

from bench.mutation import rewords_text_only


def diff(before: str, after: str) -> str:
    return f"--- a.py\n+++ a.py\n@@ -1 +1 @@\n-{before}\n+{after}\n"


def test_a_reason_text_wrapped_or_in_another_case_is_proposed_with_its_mutated_line() -> None:
    before = '        raise RuleViolation("a policy needs a name", field="name")'
    for after in ("XXa policy needs a nameXX", "A POLICY NEEDS A NAME", "A policy needs a name"):
        mutated = before.replace("a policy needs a name", after)
        assert rewords_text_only(diff(before, mutated)) == mutated.strip()


def test_a_changed_field_name_key_or_code_is_not_proposed() -> None:
    before = '        raise RuleViolation("a policy needs a name", field="name")'
    assert rewords_text_only(diff(before, before.replace('"name"', '"XXnameXX"'))) is None
    assert rewords_text_only(diff(before, before.replace("a policy needs a name", "None"))) is None
    assert rewords_text_only(diff(before, '        raise RuleViolation("a policy needs a name", )')) is None
    assert rewords_text_only(diff("    if x < 2:", "    if x <= 2:")) is None


def test_a_mutant_over_several_lines_or_a_removed_line_is_not_proposed() -> None:
    assert rewords_text_only("--- a\n+++ a\n-    a = 'x y'\n") is None
    two = "--- a\n+++ a\n-    a = 'x y'\n-    b = 'x y'\n+    a = 'XXx yXX'\n+    b = 'XXx yXX'\n"
    assert rewords_text_only(two) is None
