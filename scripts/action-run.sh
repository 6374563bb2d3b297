#!/usr/bin/env bash
# What action.yml runs: install dlink from the action's own checkout, then `dlink check`.
#
# Inputs come as INPUT_* environment variables. A composite action does not set them
# by itself, so action.yml maps each input explicitly, with `_` for the `-` of the
# input's name (bash cannot read a variable called INPUT_SARIF-FILE):
#   INPUT_PATHS       Dockerfiles or directories, one per line (default: .)
#   INPUT_SARIF_FILE  also write the findings as SARIF to this file (default: none)
#   INPUT_FAIL_ON     lowest severity that fails: error, warning, info or never (default: warning)
#   INPUT_REPO_URL    the repository URL to expect instead of the git remote (default: none)
# Other variables:
#   GITHUB_ACTION_PATH         the action's checkout, installed with pip (default: this script's ..)
#   RUNNER_TEMP                where the virtual environment goes (default: a temporary directory)
#   DLINK_ACTION_SKIP_INSTALL  1 = use the `dlink` already on PATH (tests, pre-installed runners)
#
# The exit code is `dlink check`'s: 0 clean, 1 findings, 2 error. Under GitHub Actions
# (GITHUB_ACTIONS=true) dlink prints its findings as annotations by itself.
set -euo pipefail

fail() {
    printf '::error title=dlink action::%s\n' "$1"
    exit 2
}

action_path="${GITHUB_ACTION_PATH:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)}"
sarif_file="${INPUT_SARIF_FILE:-}"
fail_on="${INPUT_FAIL_ON:-warning}"
repo_url="${INPUT_REPO_URL:-}"

# One path per line; surrounding blanks and empty lines are dropped, nothing is expanded.
paths=()
while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line#"${line%%[![:space:]]*}"}"
    line="${line%"${line##*[![:space:]]}"}"
    if [[ -n "$line" ]]; then
        paths+=("$line")
    fi
done <<<"${INPUT_PATHS:-.}"
if [[ ${#paths[@]} -eq 0 ]]; then
    paths=(.)
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
    echo "::group::Install dlink from $action_path"
    python3 -m venv "$work/venv" >&2 ||
        fail "python3 -m venv failed (on Debian and Ubuntu, install python3-venv)"
    "$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        -- "$action_path" >&2 ||
        fail "pip could not install dlink from $action_path"
    echo "::endgroup::"
    dlink="$work/venv/bin/dlink"
fi

options=(--fail-on "$fail_on")
if [[ -n "$repo_url" ]]; then
    options+=(--repo-url "$repo_url")
fi

status=0
"$dlink" check "${options[@]}" -- "${paths[@]}" || status=$?

if [[ -n "$sarif_file" ]]; then
    # A second run for code scanning. Its findings are the ones just reported, so its
    # exit code never replaces the one above; trouble writing the file is only a warning.
    if mkdir -p -- "$(dirname -- "$sarif_file")" && : >"$sarif_file"; then
        sarif_status=0
        "$dlink" check "${options[@]}" --format sarif -- "${paths[@]}" >"$sarif_file" 2>/dev/null ||
            sarif_status=$?
        if [[ $sarif_status -gt 1 ]]; then
            printf '::warning title=dlink action::%s\n' \
                "dlink check --format sarif exited with $sarif_status (see the errors above)"
        fi
    else
        printf '::warning title=dlink action::%s\n' "cannot write the SARIF file $sarif_file"
    fi
fi

exit "$status"
