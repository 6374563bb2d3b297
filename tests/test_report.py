"""report/: every output format on a small set of findings, escaping, SARIF schema validity."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import conftest
from dlink import __version__
from dlink.errors import DlinkError
from dlink.findings import Edit, Finding, RuleInfo, Severity
from dlink.report import FORMATS, render

SARIF_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "sarif-2.1.0.json"

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
        pytest.param("json", '{\n  "findings": [],\n  "version": 1\n}\n', id="json"),
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
        "fix": {"applicability": "safe", "message": None},
    }
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


def sarif_schema_or_skip() -> Any:
    if not SARIF_SCHEMA.is_file():
        if conftest.UNDER_CI:
            pytest.fail(f"the SARIF schema is required under CI but {SARIF_SCHEMA} is missing")
        pytest.skip(
            f"the SARIF schema is not present at {SARIF_SCHEMA} (a fresh clone has no ../shared/)"
        )
    return json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))


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
    schema = sarif_schema_or_skip()
    # Through importlib: jsonschema ships no type information.
    jsonschema = importlib.import_module("jsonschema")
    validator = jsonschema.Draft4Validator(schema)
    errors = [error.message for error in validator.iter_errors(sarif(findings))]
    assert errors == []


def test_sarif_run() -> None:
    document = sarif(FINDINGS)
    assert document["version"] == "2.1.0"
    assert document["$schema"].endswith("sarif-schema-2.1.0.json")
    [run] = document["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("dlink", __version__)
    assert driver["informationUri"].startswith("https://")
    assert [rule["id"] for rule in driver["rules"]] == ["DLK101", "DLK201", "DLK301", "DLK999"]
    assert driver["rules"][0] == {
        "id": "DLK101",
        "name": "missing-source-label",
        "shortDescription": {"text": RULES[0].summary},
        "fullDescription": {"text": RULES[0].doc.strip()},
        "help": {"text": RULES[0].doc.strip()},
        "defaultConfiguration": {"level": "error"},
    }
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
                    "artifactLocation": {"uri": "app/Dockerfile", "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 3, "startColumn": 1, "endLine": 3, "endColumn": 12},
                }
            }
        ],
    }
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
    assert issues[1]["description"] == "label says 100% other\r\nsecond line"
    assert issues[1]["check_name"] == "DLK201"
    assert issues[1]["location"] == {"path": "odd, dir:x/Dockerfile", "lines": {"begin": 7}}
    for issue in issues:
        assert re.fullmatch(r"[0-9a-f]{64}", issue["fingerprint"])
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue)
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)


def test_gitlab_fingerprints_are_stable_and_unique() -> None:
    first = json.loads(render("gitlab", FINDINGS, RULES))
    again = json.loads(render("gitlab", list(FINDINGS), RULES[:1]))
    assert [i["fingerprint"] for i in first] == [i["fingerprint"] for i in again]
    # A finding elsewhere (other line, other message) must not change this one's.
    moved = json.loads(render("gitlab", [finding("DLK101", Severity.ERROR, "x"), *FINDINGS], RULES))
    assert [i["fingerprint"] for i in moved[1:]] == [i["fingerprint"] for i in first]
    twice = json.loads(render("gitlab", [FINDINGS[0], FINDINGS[0]], RULES))
    assert twice[0]["fingerprint"] == first[0]["fingerprint"]
    assert twice[1]["fingerprint"] != twice[0]["fingerprint"]


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param({"path": "other/Dockerfile"}, id="path"),
        pytest.param({"code": "DLK201"}, id="code"),
        pytest.param({"line": 4}, id="line"),
        pytest.param({"message": "another message"}, id="message"),
    ],
)
def test_gitlab_fingerprint_depends_on_each_part(changed: dict[str, Any]) -> None:
    base = FINDINGS[0]
    other = Finding(**{**base.__dict__, **changed})
    [a, b] = json.loads(render("gitlab", [base, other], RULES))
    assert a["fingerprint"] != b["fingerprint"]
