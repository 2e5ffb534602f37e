#!/usr/bin/env sh
# Lints the OpenAPI document the service serves (/api/docs-json) with Redocly (recommended) and
# Spectral (spectral:oas); fails on any error or warning. Rules are set in .redocly.yaml and
# .spectral.yaml (a rule is turned off there only with a one-line reason). CI runs this.
set -eu
cd "$(dirname "$0")/.."
OUT="${1:-$(mktemp -d)/openapi.json}"
npx ts-node --transpile-only scripts/write-openapi.ts "$OUT"
echo "OpenAPI document: $OUT"

npx redocly lint --config .redocly.yaml --format=json "$OUT" > "$OUT.redocly.json" 2>/dev/null || true
node -e '
  const r = require(process.argv[1]);
  const t = r.totals || {};
  const n = (t.errors || 0) + (t.warnings || 0);
  for (const p of r.problems || []) console.log(`redocly ${p.severity} ${p.ruleId}: ${p.message} (${(p.location || []).map((l) => l.pointer).join(", ")})`);
  console.log(`Redocly: ${t.errors || 0} errors, ${t.warnings || 0} warnings`);
  process.exit(n === 0 ? 0 : 1);
' "$OUT.redocly.json"

npx spectral lint --ruleset .spectral.yaml --fail-severity=warn "$OUT"
echo "Spectral: 0 errors, 0 warnings"
