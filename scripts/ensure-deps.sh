#!/bin/sh
# Installs exactly what package-lock.json pins, unless node_modules already matches it, so the
# README's one-line commands work on a fresh clone and stay quick afterwards.
set -e
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
