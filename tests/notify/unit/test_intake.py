"""E-mail intake's pure rules: auto-reply detection, ticket numbers, the ids a reply answers, DSN
parsing, HTML to text, attachments' verdicts, the sender policy and the classification."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

import pytest

from services.notify.domain.intake import (
    Bounce,
    IntakePolicy,
    Outcome,
    SenderPolicy,
    attachment_refusal,
    auto_reply_reason,
    classify,
    html_to_text,
    kind_of,
    parse,
    referenced_ids,
    request_number,
    request_reply_detail,
    sender_allowed,
    sent_message_uuid,
    ticket_number,
)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"auto-submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
        ({"auto-submitted": "auto-generated; owner-email=x@y"}, "Auto-Submitted: auto-generated; owner-email=x@y"),
        ({"auto-submitted": "No"}, None),
        ({"auto-submitted": "no ; comment"}, None),
        ({"precedence": "bulk"}, "Precedence: bulk"),
        ({"precedence": "Junk"}, "Precedence: junk"),
        ({"precedence": "list"}, "Precedence: list"),
        ({"precedence": "auto_reply"}, "Precedence: auto_reply"),
        ({"precedence": "first-class"}, None),
        ({"x-autoreply": "yes"}, "x-autoreply present"),
        ({"x-autorespond": ""}, "x-autorespond present"),
        ({"subject": "Out of office"}, None),
    ],
)
def test_auto_replies_are_recognised_by_their_headers(headers: dict[str, str], reason: str | None) -> None:
    assert auto_reply_reason(headers) == reason


@pytest.mark.parametrize(
    ("subject", "number"),
    [
        ("Re: [INC0001234] Printer", "INC0001234"),
        ("Re: [ inc0001234 ] Printer", "INC0001234"),
        ("About INC0000042, again", "INC0000042"),
        ("Re: INC0000001 and [INC0000002]", "INC0000002"),
        ("INC12345678901", "INC12345678901"),
        ("XINC0001234 is not one", None),
        ("INC000123 is too short", None),
        ("INC0001234567890 is too long", None),
        ("Printer broken", None),
    ],
)
def test_the_ticket_number_of_a_subject(subject: str, number: str | None) -> None:
    assert ticket_number(subject) == number


def test_the_ids_a_reply_answers_nearest_first_each_once() -> None:
    assert referenced_ids("<c@x>", "<a@x> <b@x>\r\n <c@x>") == ["c@x", "b@x", "a@x"]
    assert referenced_ids("", "") == []
    assert len(referenced_ids("", " ".join(f"<{i}@x>" for i in range(80)))) == 50


def test_a_message_notify_sent_is_known_by_the_uuid_of_its_id() -> None:
    known = uuid.uuid4()
    assert sent_message_uuid(f"{known}@itsm.test") == known
    assert sent_message_uuid("CAF=abc@mail.gmail.com") is None


def test_the_sender_policy() -> None:
    assert sender_allowed("eve@elsewhere.test", SenderPolicy.ACCEPT, [])
    assert sender_allowed("ada@Example.TEST", SenderPolicy.ALLOWED_DOMAINS, ["example.test"])
    assert not sender_allowed("eve@elsewhere.test", SenderPolicy.ALLOWED_DOMAINS, ["example.test"])
    assert not sender_allowed("nobody", SenderPolicy.ALLOWED_DOMAINS, ["example.test"])


def test_what_a_new_message_opens() -> None:
    assert kind_of("[REQ] New laptop", [], []) == "request"
    assert kind_of("[request] New laptop", [], []) == "request"
    assert kind_of("New laptop", ["Orders@example.test"], ["orders@example.test"]) == "request"
    assert kind_of("REQ laptop", ["desk@example.test"], ["orders@example.test"]) == "incident"


def test_attachment_verdicts() -> None:
    allowed = ["image/*", "application/pdf"]
    assert attachment_refusal("application/pdf", 10, allowed, 10) is None
    assert attachment_refusal("image/png; name=a.png", 1, allowed, 10) is None
    assert attachment_refusal("application/pdf", 11, allowed, 10) == "11 bytes, more than the limit of 10"
    assert (
        attachment_refusal("application/x-msdownload", 1, allowed, 10) == "type application/x-msdownload is not allowed"
    )
    assert attachment_refusal("text/plain", 1, [], 10) == "type text/plain is not allowed"


def test_html_becomes_text() -> None:
    html = "<html><head><title>T</title><style>p{color:red}</style></head><body><p>Hello&nbsp;<b>you</b></p>"
    html += "<script>alert(1)</script><ul><li>one</li><li>two</li></ul><br>x &amp; y</body></html>"
    assert html_to_text(html) == "Hello you\n\none\n\ntwo\n\nx & y"


def _mail(**headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Ada Lovelace <Ada@Example.test>"
    msg["To"] = "desk@example.test, Orders <orders@example.test>"
    msg["Subject"] = "  Printer   broken  "
    msg["Message-ID"] = "<m1@example.test>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    return msg


def test_parse_takes_the_plain_text_and_the_attachments() -> None:
    msg = _mail(In_Reply_To="<p@x>", References="<a@x> <p@x>")
    msg.set_content("Hello\n")
    msg.add_alternative("<p>Hello in HTML</p>", subtype="html")
    msg.add_attachment(b"data", maintype="application", subtype="pdf", filename="a.pdf")
    parsed = parse(msg.as_bytes(), max_body_chars=100)
    assert parsed.sender == "ada@example.test"
    assert parsed.recipients == ["desk@example.test", "orders@example.test"]
    assert parsed.subject == "Printer broken"
    assert parsed.message_id == "<m1@example.test>"
    assert parsed.body == "Hello"
    assert parsed.references == ["p@x", "a@x"]
    assert parsed.auto_reply is None and parsed.bounces is None
    assert [(a.filename, a.content_type, a.data) for a in parsed.attachments] == [("a.pdf", "application/pdf", b"data")]


def test_parse_converts_an_html_only_body_and_bounds_it() -> None:
    msg = _mail()
    msg.set_content("<p>" + "word " * 100 + "</p>", subtype="html")
    parsed = parse(msg.as_bytes(), max_body_chars=20)
    assert parsed.body == "word word word word "[:20]
    empty = _mail()
    assert parse(empty.as_bytes(), max_body_chars=20).body == ""


DSN = (
    "From: MAILER-DAEMON@mx.test\r\nTo: desk@example.test\r\nSubject: failure\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
    "--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n"
    "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.test\r\n\r\n"
    "Action: failed\r\nFinal-Recipient: rfc822; <Gone@Example.test>\r\nStatus: 5.1.1\r\n"
    "Diagnostic-Code: smtp; 550 no\r\n  such user\r\n\r\n"
    "Action: delayed\r\nFinal-Recipient: rfc822;slow@example.test\r\nStatus: 4.4.1\r\n\r\n"
    "Action: failed\r\nOriginal-Recipient: rfc822;orig@example.test\r\nStatus: 5.0.0\r\n\r\n"
    "--b--\r\n"
)


def test_a_dsn_names_its_failed_recipients() -> None:
    parsed = parse(DSN.encode(), max_body_chars=100)
    assert parsed.bounces == [
        Bounce("gone@example.test", "5.1.1", "smtp; 550 no such user"),
        Bounce("orig@example.test", "5.0.0", ""),
    ]
    assert parsed.body == "" and parsed.attachments == []


def test_a_report_of_another_type_is_no_dsn() -> None:
    other = DSN.replace("report-type=delivery-status", "report-type=disposition-notification")
    assert parse(other.encode(), max_body_chars=100).bounces is None


def test_classification_order() -> None:
    rules = IntakePolicy(SenderPolicy.ALLOWED_DOMAINS, ("example.test",), max_per_sender_per_hour=3)
    plain = parse(_mail().as_bytes(), max_body_chars=10)
    assert classify(plain, rules, answers_ticket=False, sent_last_hour=0) is Outcome.OPENED
    assert classify(plain, rules, answers_ticket=True, sent_last_hour=2) is Outcome.COMMENTED
    assert classify(plain, rules, answers_ticket=True, sent_last_hour=3) is Outcome.RATE_LIMITED
    auto = parse(_mail(Auto_Submitted="auto-replied").as_bytes(), max_body_chars=10)
    assert classify(auto, rules, answers_ticket=True, sent_last_hour=0) is Outcome.AUTO_REPLY
    dsn = parse(DSN.replace("Subject", "Auto-Submitted: auto-replied\r\nSubject").encode(), max_body_chars=10)
    assert classify(dsn, rules, answers_ticket=False, sent_last_hour=0) is Outcome.BOUNCE
    outsider = parse(_mail().as_bytes().replace(b"Example.test", b"elsewhere.test"), max_body_chars=10)
    assert classify(outsider, rules, answers_ticket=True, sent_last_hour=99) is Outcome.REJECTED_SENDER
    nobody = parse(b"Subject: x\r\n\r\nbody", max_body_chars=10)
    assert classify(nobody, rules, answers_ticket=False, sent_last_hour=0) is Outcome.AUTO_REPLY


def test_what_counts_as_an_attachment_and_how_text_is_decoded() -> None:
    msg = _mail()
    msg.set_content("Grüße aus Köln", charset="iso-8859-1", cte="quoted-printable")
    msg.add_attachment(b"img", maintype="image", subtype="png", filename="inline.png", disposition="inline")
    msg.add_attachment(b"raw", maintype="application", subtype="pdf", disposition="attachment")
    named = msg.get_payload()[-1]
    assert isinstance(named, EmailMessage)
    parsed = parse(msg.as_bytes(), max_body_chars=100)
    assert parsed.body == "Grüße aus Köln", "decoded with the part's charset"
    assert [(a.filename, a.data) for a in parsed.attachments] == [("attachment", b"raw")], "inline parts stay"


def test_a_part_named_without_a_disposition_is_an_attachment_and_an_unknown_charset_reads_as_utf8() -> None:
    raw = (
        "From: a@example.test\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\nh\xc3\xa9llo\r\n"
        '--b\r\nContent-Type: text/csv; name="data.csv"\r\n\r\na,b\r\n'
        "--b--\r\n"
    ).encode("latin-1")
    parsed = parse(raw, max_body_chars=100)
    assert parsed.body == "héllo"
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [("data.csv", "text/csv")]


def test_an_empty_plain_part_falls_back_to_the_html_part() -> None:
    msg = _mail()
    msg.set_content(" \n")
    msg.add_alternative("<p>Only <i>here</i></p>", subtype="html")
    assert parse(msg.as_bytes(), max_body_chars=100).body == "Only here"


def test_dsn_blocks_without_an_action_or_recipient_are_skipped_and_fields_are_bounded() -> None:
    long = "x" * 600
    dsn = DSN.replace("Status: 5.1.1", "Status: 5.1.1 " + "9" * 30).replace("550 no\r\n  such user", long)
    dsn = dsn.replace("Action: delayed", "Final-Recipient: rfc822;noaction@example.test\r\nX: y\r\n\r\nAction: delayed")
    parsed = parse(dsn.encode(), max_body_chars=100)
    assert parsed.bounces is not None
    first = parsed.bounces[0]
    assert first.recipient == "gone@example.test"
    assert len(first.status) == 20 and first.status.startswith("5.1.1")
    assert len(first.diagnostic) == 500
    assert [b.recipient for b in parsed.bounces] == ["gone@example.test", "orig@example.test"]


def test_attachment_types_with_parameters_and_wildcards() -> None:
    assert attachment_refusal("Image/PNG ; name=a", 1, ["image/*"], 10) is None
    assert attachment_refusal("text/plain;charset=utf-8", 1, ["text/plain"], 10) is None
    assert attachment_refusal("text/csv", 1, ["text/plain", "image/*"], 10) == "type text/csv is not allowed"
    assert attachment_refusal("application/pdf", 10, ["application/pdf"], 10) is None, "the limit itself is allowed"


@pytest.mark.parametrize(
    ("subject", "number"),
    [
        ("Re: [REQ0001234] New laptop", "REQ0001234"),
        ("Re: [ req0001234 ] New laptop", "REQ0001234"),
        ("Re: REQ0000012 received: New laptop", "REQ0000012"),
        ("Re: REQ0000001 and [REQ0000002]", "REQ0000002"),
        ("REQ12345678901", "REQ12345678901"),
        ("[REQ] New laptop", None),
        ("[request] New laptop", None),
        ("XREQ0001234 is not one", None),
        ("REQ000123 is too short", None),
        ("REQ0001234567890 is too long", None),
        ("INC0001234", None),
    ],
)
def test_the_request_number_of_a_subject(subject: str, number: str | None) -> None:
    assert request_number(subject) == number


def test_a_reply_about_a_request_is_refused_after_the_other_checks() -> None:
    rules = IntakePolicy(SenderPolicy.ALLOWED_DOMAINS, ("example.test",), max_per_sender_per_hour=3)
    plain = parse(_mail().as_bytes(), max_body_chars=10)
    reply = {"answers_ticket": False, "answers_request": True}
    assert classify(plain, rules, sent_last_hour=0, **reply) is Outcome.REQUEST_REPLY
    assert classify(plain, rules, sent_last_hour=0, answers_ticket=True, answers_request=True) is Outcome.COMMENTED
    assert classify(plain, rules, sent_last_hour=3, **reply) is Outcome.RATE_LIMITED
    auto = parse(_mail(Auto_Submitted="auto-replied").as_bytes(), max_body_chars=10)
    assert classify(auto, rules, sent_last_hour=0, **reply) is Outcome.AUTO_REPLY
    outsider = parse(_mail().as_bytes().replace(b"Example.test", b"elsewhere.test"), max_body_chars=10)
    assert classify(outsider, rules, sent_last_hour=0, **reply) is Outcome.REJECTED_SENDER


def test_the_reason_a_request_reply_is_refused() -> None:
    assert request_reply_detail("REQ0000012") == (
        "a reply about request REQ0000012: service requests take no comments, so it was not added to the"
        " request and opened nothing; the requester should be answered by the desk"
    )
    assert request_reply_detail(None).startswith("a reply about a service request: service requests take")
    assert len(request_reply_detail("REQ" + "9" * 12)) <= 500
