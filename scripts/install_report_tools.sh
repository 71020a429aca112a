#!/usr/bin/env bash
# Tools the rendered report needs beyond Python: Debian's Chromium (prints HTML to PDF, runs the
# report tests) and the npm assets (reveal.js 4.0.2, MathJax 3) that fer_helpers.render inlines
# into report.html and slides.html so they work offline. Idempotent; called by the setup script.
#
#   scripts/install_report_tools.sh            # both
#   SKIP_APT=1 scripts/install_report_tools.sh # npm only (no root, or Chromium already there)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${SKIP_APT:-}" ]] && ! command -v chromium >/dev/null 2>&1; then
    if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
    echo "installing Chromium (apt-get) ..."
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver fonts-dejavu-core
fi
command -v chromium >/dev/null 2>&1 && chromium --version || echo "warning: chromium not found; PDFs and report tests will be skipped" >&2

if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm not found (Node.js 18+ is needed for the report's offline assets)" >&2
    exit 1
fi
echo "installing report assets (npm ci) ..."
npm ci --no-audit --no-fund --loglevel=error
test -f node_modules/reveal.js/dist/reveal.js
test -f node_modules/mathjax/es5/tex-svg-full.js
echo "report tools ready"
