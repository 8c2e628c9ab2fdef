#!/usr/bin/env bash
# The whole test suite: unit, integration (server + SQLite + WebSocket) and end-to-end (headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian's chromium for the end-to-end tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The end-to-end tests need Chromium at /usr/bin/chromium. Install it with: sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi

[ -d node_modules ] || npm ci --no-audit --no-fund
[ -f server/store/generated/client.ts ] || npm run -s postinstall

echo "== type check"
npx tsc --noEmit -p tsconfig.json

echo "== production build of the UI"
NEXT_TELEMETRY_DISABLED=1 npx next build >/tmp/flowscope-next-build.log 2>&1 || { cat /tmp/flowscope-next-build.log; exit 1; }

echo "== tests"
export NEXT_TELEMETRY_DISABLED=1
node --import tsx --test --test-concurrency=1 --test-reporter=spec $(find test -name '*.test.ts' | sort)
