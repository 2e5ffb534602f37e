#!/bin/sh
# Builds dist/ only when it is missing or older than the sources, so `npm start` on a fresh clone
# builds once and later starts (every replica start, a restart) run the built server at once.
# The stamp is taken before the build starts: a file saved during a build makes the next start
# build again rather than run stale code.
set -e
cd "$(dirname "$0")/.."
STAMP=dist/.build-stamp
SOURCES="src migrations package.json package-lock.json tsconfig.json tsconfig.build.json nest-cli.json"
if [ -f "$STAMP" ] && [ -f dist/src/main.js ] && [ -z "$(find $SOURCES -newer "$STAMP" -print 2>/dev/null | head -n 1)" ]; then
  exit 0
fi
NEXT="$(mktemp)"
npx nest build
mv "$NEXT" "$STAMP"
