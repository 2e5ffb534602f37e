/**
 * The layers of src/ (docs/architecture.md), top to bottom. A file may import its own layer and the
 * layers below it, never one above; no import cycle anywhere. `npm run lint:deps` checks this.
 *
 *   root            src/*.ts (main, app.module, app.setup, entities) and src/cli/: the only code that knows every feature
 *   features        the HTTP surface and its rules: one folder per feature
 *   auth            guards, verifiers, the principal: what every feature puts on its routes
 *   infrastructure  database, config, caches, metrics, rate limits, usage counting, the audit writer
 *   domain          pure credential formats and state rules shared by features and auth
 *   common          app-agnostic helpers: errors, HTTP plumbing, logging, addresses, crypto
 *
 * A folder added under src/ must be placed in LAYERS, or the check fails (`not-in-a-layer`).
 */
const LAYERS = [
  // src/queries/ holds the spec that writes every repository's SQL out for review: like the root, it knows every feature.
  { name: 'root', paths: ['^src/[^/]+\\.ts$', '^src/cli/', '^src/queries/'] },
  {
    name: 'features',
    paths: [
      '^src/(admin-events|containment|health|hot-path|idempotency|instance-keys|instances|mica|operator-tokens|pages|secret-scanning|usage-history|webhooks)/',
    ],
  },
  { name: 'auth', paths: ['^src/auth/'] },
  { name: 'infrastructure', paths: ['^src/(audit|config|database|key-cache|metrics|rate-limit|usage)/'] },
  { name: 'domain', paths: ['^src/domain/'] },
  { name: 'common', paths: ['^src/common/'] },
];

const ALL_LAYERS = LAYERS.flatMap((layer) => layer.paths);

function below(index) {
  const names = LAYERS.slice(index + 1).map((layer) => layer.name);
  return names.length ? names.join(', ') : 'no other layer';
}

/** One rule per layer: nothing above it. */
const layerRules = LAYERS.slice(1).map((layer, i) => {
  const index = i + 1;
  const above = LAYERS.slice(0, index);
  return {
    name: `layer-${layer.name}`,
    severity: 'error',
    comment:
      `${layer.name} may use itself and ${below(index)}; it must not import ${above.map((l) => l.name).join(' or ')} ` +
      '(layers, top to bottom: root > features > auth > infrastructure > domain > common; see docs/architecture.md)',
    from: { path: layer.paths },
    to: { path: above.flatMap((l) => l.paths) },
  };
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Files must not import each other in a loop: move the shared piece down a layer, or hand it in from above.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-in-a-layer',
      severity: 'error',
      comment: 'Every folder of src/ belongs to one layer: add it to LAYERS in .dependency-cruiser.js (and to docs/architecture.md).',
      from: { path: '^src/', pathNot: ALL_LAYERS },
      to: {},
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'domain holds rules and formats only: no framework, no database, no HTTP (node built-ins and src/common are fine).',
      from: { path: '^src/domain/' },
      to: { path: '^node_modules/(@nestjs|typeorm|express|ioredis|pg|rxjs|class-validator|class-transformer)/' },
    },
    {
      name: 'migrations-stand-alone',
      severity: 'error',
      comment:
        'A migration is the schema as it was on its day: it may import typeorm and the pure rules of src/domain or src/common, nothing else of src/.',
      from: { path: '^migrations/' },
      to: { path: '^src/', pathNot: ['^src/domain/', '^src/common/'] },
    },
    {
      name: 'src-not-to-tests',
      severity: 'error',
      comment: 'src/ must not import test/ or bench/ code.',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: they tie a file to another as much as a value import does.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
