#!/usr/bin/env bash
# What action.yml runs: install dlink from the action's own checkout, then `dlink check`.
#
# Inputs come as INPUT_* environment variables. A composite action does not set them
# by itself, so action.yml maps each input explicitly, with `_` for the `-` of the
# input's name (bash cannot read a variable called INPUT_OUTPUT-FILE):
#   INPUT_PATHS         Dockerfiles or directories, one per line (default: .)
#   INPUT_CONFIG        a config file to use instead of discovery (default: none)
#   INPUT_FORMAT        the report's format: sarif, json, gitlab, github or text (default: sarif)
#   INPUT_OUTPUT_FILE   write the report there (default: none; RUNNER_TEMP/dlink.sarif
#                       when INPUT_UPLOAD_SARIF is true)
#   INPUT_FAIL_ON       lowest severity that fails: error, warning, info or never (default: warning)
#   INPUT_SELECT        rule codes or prefixes to run, separated by blanks, commas or lines
#   INPUT_IGNORE        rule codes or prefixes to skip, likewise
#   INPUT_REPO_URL      the repository URL to expect instead of the git remote (default: none)
#   INPUT_VERSION       a git ref of the action's repository to install dlink from instead
#                       of the action's own checkout (default: the checkout)
#   INPUT_UPLOAD_SARIF  true: the report is SARIF for code scanning (default: false)
# Other variables:
#   GITHUB_ACTION_PATH         the action's checkout, installed with pip (default: this script's ..)
#   GITHUB_OUTPUT              where step outputs go: findings, report, exit-code
#   RUNNER_TEMP                where the virtual environment goes (default: a temporary directory)
#   DLINK_ACTION_SKIP_INSTALL  1 = use the `dlink` already on PATH (tests, pre-installed runners)
#   DLINK_ACTION_DEFER_EXIT    1 = exit 0 and leave dlink's status in the exit-code output
#                              (action.yml sets it, so the upload step still runs after findings)
#
# The exit code is `dlink check`'s: 0 clean, 1 findings, 2 error. Under GitHub Actions
# (GITHUB_ACTIONS=true) dlink prints its findings as annotations and writes the job
# summary itself. A run that failed (2) never hands its report on: the `report` output
# stays empty, so an upload step guarded by it cannot close open alerts.
set -euo pipefail

fail() {
    printf '::error title=dlink action::%s\n' "$1"
    exit 2
}

set_output() {
    if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
        printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
    fi
}

action_path="${GITHUB_ACTION_PATH:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)}"
report_format="${INPUT_FORMAT:-sarif}"
output_file="${INPUT_OUTPUT_FILE:-}"
fail_on="${INPUT_FAIL_ON:-warning}"
repo_url="${INPUT_REPO_URL:-}"
config="${INPUT_CONFIG:-}"
version="${INPUT_VERSION:-}"
upload_sarif="${INPUT_UPLOAD_SARIF:-false}"

# One item per line (or per blank/comma for codes); surrounding blanks are dropped,
# nothing is expanded.
read_lines() {
    local line
    while IFS= read -r line || [[ -n "$line" ]]; do
        line="${line#"${line%%[![:space:]]*}"}"
        line="${line%"${line##*[![:space:]]}"}"
        if [[ -n "$line" ]]; then
            printf '%s\n' "$line"
        fi
    done <<<"$1"
}

paths=()
while IFS= read -r line; do
    paths+=("$line")
done < <(read_lines "${INPUT_PATHS:-.}")
if [[ ${#paths[@]} -eq 0 ]]; then
    paths=(.)
fi

options=(--fail-on "$fail_on")
if [[ -n "$repo_url" ]]; then
    options+=(--repo-url "$repo_url")
fi
if [[ -n "$config" ]]; then
    options+=(--config "$config")
fi
codes() {
    read_lines "$1" | tr -s ',[:blank:]' '\n' | sed '/^$/d'
}
while IFS= read -r code; do
    options+=(--select "$code")
done < <(codes "${INPUT_SELECT:-}")
while IFS= read -r code; do
    options+=(--ignore "$code")
done < <(codes "${INPUT_IGNORE:-}")

if [[ "$upload_sarif" == "true" ]]; then
    if [[ "$report_format" != "sarif" ]]; then
        fail "upload-sarif needs format: sarif, not $report_format"
    fi
    if [[ -z "$output_file" ]]; then
        output_file="${RUNNER_TEMP:-.}/dlink.sarif"
    fi
elif [[ "$upload_sarif" != "false" ]]; then
    fail "upload-sarif must be true or false, not $upload_sarif"
fi
if [[ -n "$output_file" ]]; then
    options+=(--format "$report_format" --output-file "$output_file")
    mkdir -p -- "$(dirname -- "$output_file")" 2>/dev/null ||
        printf '::warning title=dlink action::%s\n' "cannot create the directory of $output_file"
fi

if [[ "${DLINK_ACTION_SKIP_INSTALL:-}" == "1" ]]; then
    dlink="$(command -v dlink)" || fail "DLINK_ACTION_SKIP_INSTALL=1 but there is no dlink on PATH"
else
    if [[ -n "${RUNNER_TEMP:-}" ]]; then
        # The runner empties RUNNER_TEMP after the job.
        work="$(mktemp -d "$RUNNER_TEMP/dlink-action.XXXXXX")"
    else
        work="$(mktemp -d)"
        trap 'rm -rf -- "$work"' EXIT
    fi
    if [[ -n "$version" ]]; then
        # Another ref of the same repository the action comes from; never a package index.
        source_spec="git+${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_ACTION_REPOSITORY:?the version input needs GITHUB_ACTION_REPOSITORY}@${version}"
    else
        source_spec="$action_path"
    fi
    echo "::group::Install dlink from $source_spec"
    python3 -m venv "$work/venv" >&2 ||
        fail "python3 -m venv failed (on Debian and Ubuntu, install python3-venv)"
    # PIP_CACHE_DIR (set by action.yml) is restored and saved by actions/cache.
    "$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        -- "$source_spec" >&2 ||
        fail "pip could not install dlink from $source_spec"
    echo "::endgroup::"
    dlink="$work/venv/bin/dlink"
fi

# Annotations go to the log as they come and are counted on the way.
log="$(mktemp)"
status=0
"$dlink" check "${options[@]}" -- "${paths[@]}" | tee "$log" || status=${PIPESTATUS[0]}
findings="$(grep -cE '^::(error|warning|notice) file=[^:]*,title=DLK[0-9]+ ' "$log" || true)"
rm -f -- "$log"

set_output findings "$findings"
set_output exit-code "$status"
if [[ -n "$output_file" ]]; then
    if [[ $status -gt 1 ]]; then
        printf '::warning title=dlink action::%s\n' \
            "dlink failed (exit $status): $output_file is not handed on for upload"
        set_output report ""
    elif [[ -f "$output_file" ]]; then
        set_output report "$output_file"
    fi
fi

if [[ "${DLINK_ACTION_DEFER_EXIT:-}" == "1" ]]; then
    exit 0
fi
exit "$status"
