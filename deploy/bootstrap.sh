#!/usr/bin/env bash
# Sets up what `make run` and `make test` need on a bare Debian machine; the Makefile's `install`
# and `.ci/run` call it, so this is the one place that knows the prerequisites.
#
#   deploy/bootstrap.sh [--check] [--for run|test] [--group NAME]...
#
# 1. Debian packages: Java 17+, Maven, a PostgreSQL server (major 14 or newer), make, and for
#    `--for test` Prometheus' promtool and Chromium. As root with apt-get, what is missing is installed;
#    otherwise it stops with the one command to run.
# 2. uv: the one on PATH when it is at least UV_VERSION, else UV_VERSION installed with pip from
#    PyPI into .cache/uv (PyPI is enough: no other download site is needed).
# 3. The locked environment: `uv sync --frozen` (plus each --group, e.g. bench).
#
# --check changes nothing: it reports what is there and what is missing, exits 1 if anything is.
set -euo pipefail

UV_VERSION=0.13.9
MIN_JAVA=17
MIN_PG_MAJOR=14

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
UV_HOME="$REPO/.cache/uv"

check=0
purpose=run
groups=()
while [ $# -gt 0 ]; do
    case "$1" in
        --check) check=1 ;;
        --for)
            purpose=${2:-}
            shift
            ;;
        --group)
            groups+=("${2:?--group needs a name}")
            shift
            ;;
        -h | --help)
            sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "bootstrap: unknown argument $1 (see --help)" >&2
            exit 2
            ;;
    esac
    shift
done
case "$purpose" in
    run | test) ;;
    *)
        echo "bootstrap: --for takes run or test, not '$purpose'" >&2
        exit 2
        ;;
esac

say() {
    printf 'bootstrap: %s\n' "$*"
}

# ---- what is there ------------------------------------------------------------------------------

java_major() {
    # `java -version` prints e.g. openjdk version "17.0.15" 2025-04-15 (or "1.8.0_392" before 9).
    # Read to the end (no early exit) so that java never writes into a closed pipe under pipefail.
    java -version 2>&1 | awk -F'"' '/version/ && !seen { split($2, v, "."); print (v[1] == 1 ? v[2] : v[1]); seen = 1 }'
}

have_java() {
    command -v java >/dev/null 2>&1 || return 1
    local major
    major=$(java_major)
    [ -n "$major" ] && [ "$major" -ge "$MIN_JAVA" ]
}

pg_bin() {
    # What deploy/local/postgres.py runs: $PROGRAMME_PG_BIN, else the newest major >= 14 installed.
    if [ -n "${PROGRAMME_PG_BIN:-}" ]; then
        echo "$PROGRAMME_PG_BIN"
        return 0
    fi
    local folder major best=""
    for folder in /usr/lib/postgresql/*/bin; do
        major=$(basename "$(dirname "$folder")")
        case "$major" in '' | *[!0-9]*) continue ;; esac
        [ "$major" -ge "$MIN_PG_MAJOR" ] || continue
        [ -x "$folder/initdb" ] && [ -x "$folder/pg_ctl" ] && [ -x "$folder/postgres" ] || continue
        if [ -z "$best" ] || [ "$major" -gt "$(basename "$(dirname "$best")")" ]; then
            best=$folder
        fi
    done
    [ -n "$best" ] && echo "$best"
}

have_postgres() {
    local folder
    folder=$(pg_bin) || return 1
    [ -x "$folder/initdb" ] && [ -x "$folder/pg_ctl" ] && [ -x "$folder/postgres" ]
}

version_at_least() {
    # $1 >= $2 in version order.
    [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | sed -n 1p)" = "$2" ]
}

find_uv() {
    # A uv at least as new as the pinned one: PATH's, else the one this script installed.
    local candidate version
    for candidate in "$(command -v uv 2>/dev/null || true)" "$UV_HOME/bin/uv"; do
        [ -n "$candidate" ] && [ -x "$candidate" ] || continue
        version=$("$candidate" --version 2>/dev/null | awk '{ print $2 }')
        if [ -n "$version" ] && version_at_least "$version" "$UV_VERSION"; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

can_make_venv() {
    command -v python3 >/dev/null 2>&1 && python3 -c 'import ensurepip, venv' >/dev/null 2>&1
}

# ---- Debian packages ----------------------------------------------------------------------------

packages=()
found=()
if have_java; then found+=("java $(java_major)"); else packages+=(default-jre-headless); fi
if command -v mvn >/dev/null 2>&1; then found+=(maven); else packages+=(maven); fi
if have_postgres; then found+=("postgres $(pg_bin)"); else packages+=(postgresql); fi
if command -v make >/dev/null 2>&1; then found+=(make); else packages+=(make); fi
if [ "$purpose" = test ]; then
    # promtool runs the alert rules' unit tests (deploy/prometheus/alerts.test.yml).
    if command -v promtool >/dev/null 2>&1; then found+=(promtool); else packages+=(prometheus); fi
    # Headless Chromium renders the programme report's page in its test (tests/e2e/test_report.py).
    if command -v chromium >/dev/null 2>&1; then found+=(chromium); else packages+=(chromium); fi
fi
uv_bin=$(find_uv || true)
if [ -z "$uv_bin" ] && ! can_make_venv; then
    # pip installs uv into a virtual environment of Debian's Python.
    packages+=(python3 python3-venv)
fi

say "found: ${found[*]:-nothing}"
as_root=0
[ "$(id -u)" -eq 0 ] && as_root=1
if [ "${#packages[@]}" -gt 0 ]; then
    install_command="apt-get install -y --no-install-recommends ${packages[*]}"
    if [ "$check" -eq 1 ] || [ "$as_root" -eq 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        [ "$as_root" -eq 1 ] || install_command="sudo $install_command"
        say "missing Debian packages: ${packages[*]}"
        say "run: $install_command   (then run this again)"
        [ "$check" -eq 1 ] || exit 1
    else
        say "installing: ${packages[*]}"
        export DEBIAN_FRONTEND=noninteractive
        # Slim images lack man folders, and the JRE's post-install step fails without this one.
        mkdir -p /usr/share/man/man1
        apt-get update -q
        apt-get install -y -q --no-install-recommends "${packages[@]}"
        # If apt created and started Debian's own cluster on 5432, it is left alone: the project
        # runs its own server on a data folder under .local/ (deploy/local/postgres.py).
    fi
fi

# ---- uv -----------------------------------------------------------------------------------------

if [ -z "$uv_bin" ]; then
    if [ "$check" -eq 1 ]; then
        say "missing uv $UV_VERSION or newer: without --check, pip installs uv==$UV_VERSION into $UV_HOME"
    else
        say "installing uv $UV_VERSION with pip into $UV_HOME"
        rm -rf "$UV_HOME"
        python3 -m venv "$UV_HOME"
        "$UV_HOME/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
        uv_bin="$UV_HOME/bin/uv"
    fi
fi
[ -z "$uv_bin" ] || say "uv: $uv_bin ($("$uv_bin" --version))"

# ---- the locked environment ---------------------------------------------------------------------

if [ "$check" -eq 1 ]; then
    if [ "${#packages[@]}" -gt 0 ] || [ -z "$uv_bin" ]; then
        exit 1
    fi
    say "all present for make $purpose"
    exit 0
fi
sync=("$uv_bin" sync --frozen)
for group in "${groups[@]}"; do
    sync+=(--group "$group")
done
cd "$REPO"
"${sync[@]}"
