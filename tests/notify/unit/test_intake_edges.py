"""E-mail intake's pure rules at their edges: header values with spaces and capitals, lists and
fields at their bounds, every block and hidden HTML element, the first of several text parts,
undecodable bytes in known and unknown charsets, DSN blocks in capitals or missing a field, and
values with more than one separator."""

from __future__ import annotations

import uuid

import pytest

from services.notify.domain.intake import (
    IntakePolicy,
    Outcome,
    SenderPolicy,
    _decoded_text,
    attachment_refusal,
    auto_reply_reason,
    classify,
    html_to_text,
    kind_of,
    parse,
    sender_allowed,
    sent_message_uuid,
)
from tests.notify.unit.test_intake import DSN, _mail


def test_auto_reply_headers_with_spaces_and_a_long_value() -> None:
    assert auto_reply_reason({"auto-submitted": "  Auto-Replied  "}) == "Auto-Submitted: auto-replied"
    assert auto_reply_reason({"precedence": "  Bulk "}) == "Precedence: bulk"
    long = "auto-generated;" + "x" * 200
    assert auto_reply_reason({"auto-submitted": long}) == "Auto-Submitted: " + long[:100]


def test_allowlists_are_compared_without_case() -> None:
    assert sender_allowed("ada@example.test", SenderPolicy.ALLOWED_DOMAINS, ["EXAMPLE.test"])
    assert kind_of("Laptop", ["orders@example.test"], ["ORDERS@Example.test"]) == "request"
    assert attachment_refusal("image/png", 1, ["IMAGE/*"], 10) is None
    assert attachment_refusal("application/pdf", 1, ["Application/PDF"], 10) is None


@pytest.mark.parametrize(
    "tag", ["p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"]
)
def test_each_block_element_is_a_line_of_its_own(tag: str) -> None:
    assert html_to_text(f"before<{tag}>inside</{tag}>after") == "before\ninside\nafter"


@pytest.mark.parametrize("tag", ["script", "style", "head", "title"])
def test_each_hidden_element_is_dropped(tag: str) -> None:
    assert html_to_text(f"before <{tag}>hidden</{tag}>after") == "before after"


def test_hidden_elements_nest_and_a_stray_end_tag_hides_nothing() -> None:
    assert html_to_text("<head><title>x</title>y</head>shown") == "shown"
    assert html_to_text("</style>shown") == "shown"
    assert html_to_text("</title>a<span>b</span>") == "ab"


def test_blank_lines_fold_to_one() -> None:
    assert html_to_text("a<br><br>b") == "a\n\nb", "three line breaks become two"
    assert html_to_text("a<br><br><br>b") == "a\n\nb", "four line breaks become two"
    assert html_to_text("a<br>b") == "a\nb"


def _two_parts(first: str, second: str, subtype: str) -> bytes:
    return (
        "From: a@example.test\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        f"--b\r\nContent-Type: text/{subtype}\r\n\r\n{first}\r\n"
        f"--b\r\nContent-Type: text/{subtype}\r\n\r\n{second}\r\n"
        "--b--\r\n"
    ).encode()


def test_the_first_text_part_of_each_kind_is_the_body() -> None:
    assert parse(_two_parts("first", "second", "plain"), max_body_chars=100).body == "first"
    assert parse(_two_parts("<p>first</p>", "<p>second</p>", "html"), max_body_chars=100).body == "first"


def _text_part(charset: str, payload: bytes) -> bytes:
    return (
        b"From: a@example.test\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        + f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".encode()
        + payload
        + b"\r\n"
    )


def test_undecodable_bytes_are_replaced_in_a_known_and_an_unknown_charset() -> None:
    assert parse(_text_part("utf-8", b"caf\xff"), max_body_chars=100).body == "caf\ufffd"
    assert parse(_text_part("x-unknown", b"caf\xff"), max_body_chars=100).body == "caf\ufffd"
    assert parse(_text_part("iso-8859-1", b"caf\xe9"), max_body_chars=100).body == "café"


def test_a_part_without_a_payload_reads_as_no_text() -> None:
    msg = _mail()
    msg.set_content("a")
    msg.add_attachment(b"b", maintype="application", subtype="pdf", filename="b.pdf")
    assert msg.is_multipart()
    assert _decoded_text(msg) == ""


def test_headers_at_their_bounds() -> None:
    msg = _mail()
    msg.replace_header("Subject", "s" * 600)
    msg.replace_header("From", "x" * 400 + "@example.test")
    msg.replace_header("To", ", ".join(f"r{i}@example.test" for i in range(60)))
    msg["Cc"] = "Carol <Carol@Example.test>"
    del msg["Message-ID"]
    msg.set_content("body")
    parsed = parse(msg.as_bytes(), max_body_chars=100)
    assert parsed.subject == "s" * 500
    assert parsed.sender == ("x" * 400 + "@example.test")[:320]
    assert len(parsed.recipients) == 50 and parsed.recipients[0] == "r0@example.test"
    assert parsed.message_id is None


def test_cc_counts_as_a_recipient_and_a_missing_to_names_nobody() -> None:
    msg = _mail(Cc="Orders <ORDERS@example.test>")
    msg.replace_header("To", "desk@example.test")
    msg.set_content("x")
    assert parse(msg.as_bytes(), max_body_chars=10).recipients == ["desk@example.test", "orders@example.test"]
    bare = parse(b"From: a@example.test\r\nSubject: s\r\n\r\nbody", max_body_chars=10)
    assert bare.recipients == [] and bare.sender == "a@example.test" and bare.references == []


def test_a_dsn_action_in_capitals_and_a_recipient_without_a_type() -> None:
    dsn = DSN.replace(
        "Action: failed\r\nFinal-Recipient: rfc822; <Gone@Example.test>",
        "Action:  FAILED \r\nFinal-Recipient: <Gone@Example.test>",
    )
    parsed = parse(dsn.encode(), max_body_chars=100)
    assert parsed.bounces is not None
    assert [b.recipient for b in parsed.bounces] == ["gone@example.test", "orig@example.test"]


def test_no_semicolon_comment_and_a_quoted_local_part() -> None:
    assert auto_reply_reason({"auto-submitted": "no;comment"}) is None, "`no` with a comment is no auto-reply"
    assert sender_allowed('"a@b"@example.test', SenderPolicy.ALLOWED_DOMAINS, ["example.test"]), "the last @"
    known = uuid.uuid4()
    assert sent_message_uuid(f"{known}@desk@example.test") == known, "the id is before the first @"
    assert attachment_refusal("text/plain; charset=utf-8; format=flowed", 1, ["text/plain"], 10) is None


def test_the_accept_policy_takes_any_domain() -> None:
    outsider = parse(b"From: eve@elsewhere.test\r\nSubject: s\r\n\r\nbody", max_body_chars=10)
    rules = IntakePolicy(SenderPolicy.ACCEPT, ("example.test",))
    assert classify(outsider, rules, answers_ticket=False, sent_last_hour=0) is Outcome.OPENED


def test_a_message_without_a_subject() -> None:
    assert parse(b"From: a@example.test\r\n\r\nbody", max_body_chars=10).subject == ""


def test_a_failed_dsn_block_needs_a_recipient_and_may_lack_a_status() -> None:
    dsn = DSN.replace(
        "Action: delayed",
        "Action: failed\r\nStatus: 5.0.0\r\n\r\nAction: failed\r\nFinal-Recipient: rfc822; <Xavier@Example.testX>\r\n"
        "\r\nAction: delayed",
    )
    parsed = parse(dsn.encode(), max_body_chars=100)
    assert parsed.bounces is not None
    assert [(b.recipient, b.status) for b in parsed.bounces] == [
        ("gone@example.test", "5.1.1"),
        ("xavier@example.testx", ""),
        ("orig@example.test", "5.0.0"),
    ], "a failed block without a recipient is skipped; one without a status has none"


def test_in_reply_to_alone_names_the_parent_and_a_no_with_two_comments_is_no_auto_reply() -> None:
    msg = _mail(In_Reply_To="<parent@x>")
    msg.set_content("x")
    assert parse(msg.as_bytes(), max_body_chars=10).references == ["parent@x"]
    assert auto_reply_reason({"auto-submitted": "no; a; b"}) is None
