# shellcheck shell=bash
# Sourced by .ci/run: make sure headless Chromium is installed for the status page test.
#
# Why: tests/e2e/test_status_page.py loads the status page in headless Chromium (the
# Debian package, /usr/bin/chromium) and reads the DOM it builds; on CI (CI set, as
# .ci/postgres.sh exports it) that test fails instead of skipping when Chromium is absent.
# This script installs the package with apt-get when /usr/bin/chromium is missing (root or
# passwordless sudo needed) and does nothing otherwise.
#
# Usage: `. .ci/chromium.sh` (also by hand: `bash .ci/chromium.sh`).

hs_chromium_log() { printf '[chromium.sh] %s\n' "$*" >&2; }

hs_chromium_install() {
    local sudo=()
    if [ -x /usr/bin/chromium ]; then return 0; fi
    if [ "$(id -u)" != 0 ]; then
        if sudo -n true 2>/dev/null; then sudo=(sudo -n); else
            hs_chromium_log "Chromium missing and no root/sudo to install it"
            return 1
        fi
    fi
    hs_chromium_log "installing Chromium with apt-get"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
    [ -x /usr/bin/chromium ] || { hs_chromium_log "no /usr/bin/chromium after install"; return 1; }
    hs_chromium_log "$(/usr/bin/chromium --version 2>/dev/null || echo chromium) installed"
}

hs_chromium_install
