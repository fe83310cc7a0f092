"""The demo's thirty invented escalations, as intake-contract JSON (pure data, no Django).

Every account and message is made up; message texts use only phrases printed in public
online-safety guidance for parents.
"""

from __future__ import annotations

from typing import Any


def _subject(pid: str, role: str, age: int | None = None, country: str = "GB") -> dict[str, Any]:
    subject: dict[str, Any] = {"platform_id": pid, "role": role, "country": country}
    if age is not None:
        subject["age"] = age
    return subject


def _thread(pid: str, text: str) -> dict[str, Any]:
    return {"platform_id": pid, "kind": "message_thread", "text": text}


def _image(pid: str) -> dict[str, Any]:
    return {"platform_id": pid, "kind": "image"}


def demo_escalations() -> list[dict[str, Any]]:
    """Thirty invented escalations across every channel and category."""
    s = _subject
    rows: list[dict[str, Any]] = [
        {
            "channel": "user_report",
            "category": "grooming",
            "summary": "Parent reports an adult messaging their child and asking for secrecy.",
            "subjects": [
                s("user:demo-s01", "suspect", 34),
                s("user:demo-v01", "victim", 12),
                s("user:demo-r01", "reporter", 41),
            ],
            "content": [
                _thread("thread:demo-001", "how old are you? don't tell your parents we talk")
            ],
        },
        {
            "channel": "user_report",
            "category": "grooming",
            "summary": "Second report on the same account: asks to move to another app.",
            "subjects": [s("user:demo-s01", "suspect"), s("user:demo-v02", "victim", 13)],
            "content": [
                _thread("thread:demo-002", "add me on another app, it's more private there")
            ],
        },
        {
            "channel": "automated",
            "category": "csam",
            "summary": "Automated detection flagged an upload from this account (pattern image).",
            "subjects": [s("user:demo-s01", "suspect")],
            "content": [_image("img:demo-001")],
        },
        {
            "channel": "user_report",
            "category": "sextortion",
            "summary": "Teen reports being threatened: pay or pictures will be sent to friends.",
            "subjects": [
                s("user:demo-s02", "suspect", None, "NG"),
                s("user:demo-v03", "victim", 15),
            ],
            "content": [
                _thread(
                    "thread:demo-003", "pay me or I will send your pictures to all your friends"
                )
            ],
        },
        {
            "channel": "user_report",
            "category": "self_harm",
            "summary": "Teen in a sextortion situation says they want to hurt themselves.",
            "subjects": [s("user:demo-s02", "suspect"), s("user:demo-v03", "victim", 15)],
            "content": [
                _thread("thread:demo-004", "i can't do this anymore, i want to hurt myself")
            ],
        },
        {
            "channel": "law_enforcement",
            "category": "imminent_danger",
            "summary": "Emergency disclosure request: officers believe a child is at risk tonight.",
            "subjects": [
                s("user:demo-s03", "suspect", None, "US"),
                s("user:demo-v04", "victim", 14, "US"),
            ],
            "content": [],
            "law_enforcement": {
                "agency": "Example County Sheriff (fictional)",
                "country": "US",
                "request_type": "emergency_disclosure",
                "contact": "duty-desk@sheriff.example",
            },
        },
        {
            "channel": "law_enforcement",
            "category": "csam",
            "summary": "Preservation request for an account under investigation.",
            "subjects": [s("user:demo-s04", "suspect", None, "GB")],
            "content": [],
            "law_enforcement": {
                "agency": "Example Constabulary (fictional)",
                "country": "GB",
                "request_type": "preservation",
                "contact": "preservation@constabulary.example",
            },
        },
        {
            "channel": "law_enforcement",
            "category": "trafficking",
            "summary": "Court order for subscriber records in a trafficking investigation.",
            "subjects": [s("user:demo-s05", "suspect", None, "DE")],
            "content": [],
            "law_enforcement": {
                "agency": "Example Landespolizei (fictional)",
                "country": "DE",
                "request_type": "legal_process",
                "contact": "ermittlung@polizei.example",
            },
        },
        {
            "channel": "internal",
            "category": "grooming",
            "summary": "Trust and safety team flags an account contacting many minors.",
            "subjects": [s("user:demo-s06", "suspect", 29)],
            "content": [
                _thread("thread:demo-005", "you seem mature for your age. what grade are you in?")
            ],
        },
        {
            "channel": "internal",
            "category": "other",
            "summary": "Support passes on a profile claiming to be a modelling agency for teens.",
            "subjects": [s("user:demo-s07", "suspect")],
            "content": [
                {
                    "platform_id": "profile:demo-s07",
                    "kind": "profile",
                    "text": "modelling agency for teens, message me for a free photo shoot",
                }
            ],
        },
        {
            "channel": "hotline",
            "category": "csam",
            "summary": "Hotline notice: URL on the platform reported by a trusted flagger.",
            "subjects": [s("user:demo-s08", "suspect")],
            "content": [_image("img:demo-002"), _image("img:demo-003")],
        },
        {
            "channel": "hotline",
            "category": "trafficking",
            "summary": "Trusted flagger reports ads that appear to offer minors.",
            "subjects": [s("user:demo-s09", "suspect")],
            "content": [
                {
                    "platform_id": "profile:demo-s09",
                    "kind": "profile",
                    "text": "new girls every week, young, ask for rates",
                }
            ],
        },
        {
            "channel": "automated",
            "category": "csam",
            "summary": "Classifier flagged an upload for review (no hash match).",
            "subjects": [s("user:demo-s10", "suspect")],
            "content": [_image("img:demo-004")],
        },
        {
            "channel": "automated",
            "category": "grooming",
            "summary": "Text classifier flagged a conversation for secrecy and age probing.",
            "subjects": [s("user:demo-s11", "suspect", 31), s("user:demo-v05", "victim", 11)],
            "content": [_thread("thread:demo-006", "how old are you? delete this chat after, ok?")],
        },
        {
            "channel": "user_report",
            "category": "imminent_danger",
            "summary": "Friend reports a plan to meet in person this weekend.",
            "subjects": [s("user:demo-s12", "suspect", 27), s("user:demo-v06", "victim", 14)],
            "content": [
                _thread(
                    "thread:demo-007", "let's meet at the park on saturday. don't tell your parents"
                )
            ],
        },
        {
            "channel": "user_report",
            "category": "imminent_danger",
            "summary": "Viewer reports a livestream where a child appears to be at risk.",
            "subjects": [s("user:demo-s13", "suspect"), s("user:demo-v07", "victim", 10)],
            "content": [{"platform_id": "live:demo-001", "kind": "livestream", "live": True}],
        },
        {
            "channel": "user_report",
            "category": "other",
            "summary": "Report of a spam account; no indication of harm to a child.",
            "subjects": [s("user:demo-s14", "suspect")],
            "content": [_thread("thread:demo-008", "win a free phone, click the link")],
        },
        {
            "channel": "user_report",
            "category": "self_harm",
            "summary": "User reports a friend posting that they want to die.",
            "subjects": [s("user:demo-v08", "victim", 16), s("user:demo-r02", "reporter", 16)],
            "content": [_thread("thread:demo-009", "i want to die, nobody would notice")],
        },
        {
            "channel": "user_report",
            "category": "sextortion",
            "summary": "Teen reports being pressured for more photos after sending one.",
            "subjects": [s("user:demo-s15", "suspect"), s("user:demo-v09", "victim", 14)],
            "content": [
                _thread(
                    "thread:demo-010",
                    "send more pictures or everyone at your school sees the first one",
                )
            ],
        },
        {
            "channel": "internal",
            "category": "sextortion",
            "summary": "Payments team flags gift-card demands sent to a minor's account.",
            "subjects": [s("user:demo-s15", "suspect"), s("user:demo-v09", "victim", 14)],
            "content": [_thread("thread:demo-011", "buy a gift card and send me the code")],
        },
        {
            "channel": "hotline",
            "category": "grooming",
            "summary": "Hotline passes on a parent's report of gifts and isolation tactics.",
            "subjects": [s("user:demo-s16", "suspect"), s("user:demo-v10", "victim", 12)],
            "content": [
                _thread(
                    "thread:demo-012", "i'll buy you the game. your parents don't get you like i do"
                )
            ],
        },
        {
            "channel": "automated",
            "category": "csam",
            "summary": "Second upload from the same account matched the demo bank.",
            "subjects": [s("user:demo-s08", "suspect")],
            "content": [_image("img:demo-005")],
        },
        {
            "channel": "user_report",
            "category": "csam",
            "summary": "User reports an image shared in a group chat (pattern image in the demo).",
            "subjects": [s("user:demo-s17", "suspect"), s("user:demo-r03", "reporter")],
            "content": [_image("img:demo-006")],
        },
        {
            "channel": "law_enforcement",
            "category": "sextortion",
            "summary": "Police ask for preservation of an account in a sextortion inquiry.",
            "subjects": [s("user:demo-s02", "suspect")],
            "content": [],
            "law_enforcement": {
                "agency": "Example Metropolitan Police (fictional)",
                "country": "GB",
                "request_type": "preservation",
                "contact": "cyber-unit@met.example",
            },
        },
        {
            "channel": "internal",
            "category": "trafficking",
            "summary": "Ads team flags repeated listings with ages and meeting locations.",
            "subjects": [s("user:demo-s18", "suspect")],
            "content": [_thread("thread:demo-013", "available tonight, downtown, young")],
        },
        {
            "channel": "hotline",
            "category": "self_harm",
            "summary": "Helpline partner relays concern for a young user's safety.",
            "subjects": [s("user:demo-v11", "victim", 13)],
            "content": [],
        },
        {
            "channel": "user_report",
            "category": "grooming",
            "summary": "Text-only report: an adult keeps asking a child where they live.",
            "subjects": [s("user:demo-s19", "suspect"), s("user:demo-v12", "victim", 11)],
            "content": [],
        },
        {
            "channel": "automated",
            "category": "other",
            "summary": "Low-confidence classifier hit on a landscape photo (pattern image).",
            "subjects": [s("user:demo-s20", "suspect")],
            "content": [_image("img:demo-007")],
        },
        {
            "channel": "hotline",
            "category": "imminent_danger",
            "summary": "Hotline relays a report that a child was asked to meet a stranger today.",
            "subjects": [s("user:demo-s12", "suspect")],
            "content": [
                _thread("thread:demo-014", "come to my house after school, it's our secret")
            ],
        },
        {
            "channel": "internal",
            "category": "csam",
            "summary": "Re-review of a prior decision requested by the appeals team.",
            "subjects": [s("user:demo-s10", "suspect")],
            "content": [_image("img:demo-004")],
        },
    ]
    for i, row in enumerate(rows, start=1):
        row["external_id"] = f"demo-{i:03d}"
    return rows
