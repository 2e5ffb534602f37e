import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { appendFileSync } from 'node:fs';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Every response a test app sends is checked against the OpenAPI document that same app serves at
 * /api/docs-json: the status must be listed for the operation, and a JSON body must validate
 * against the schema listed for that status (ajv, with formats). The check is attached to the HTTP
 * server in startTestApp, so every suite (and every suite added later) is covered without asking;
 * test/support/response-contract.setup.ts fails the test during which a violation happened.
 */

type Schema = Record<string, unknown>;
interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

interface CompiledPath {
  template: string;
  pattern: RegExp;
  operations: Record<string, Operation>;
}

export interface ContractViolation {
  method: string;
  path: string;
  status: number;
  problem: string;
}

/** Violations seen since the last check; drained by the setup file after each test. */
export const contractViolations: ContractViolation[] = [];

const CONTRACTS = new Map<string, ResponseContract>();

/** Routes outside the document on purpose: the document itself and its HTML viewer. */
const UNDOCUMENTED = /^\/api\/docs(?:-json)?(?:\/.*)?$/;

export class ResponseContract {
  private readonly ajv: Ajv;
  private readonly paths: CompiledPath[];
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly bySchema = new WeakMap<Schema, ValidateFunction>();
  private readonly errorSchema: Schema;

  constructor(private readonly doc: Document) {
    // strict off: the document carries OpenAPI keywords (example, nullable…) that are not JSON Schema;
    // nullable itself is understood by Ajv.
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: 'openapi', components: doc.components ?? {} });
    this.paths = Object.entries(doc.paths).map(([template, operations]) => ({
      template,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
      operations,
    }));
    // Sorted so a literal segment (/keys/events) wins over a parameter (/keys/{keyId}).
    this.paths.sort((a, b) => a.template.split('{').length - b.template.split('{').length);
    this.errorSchema = { $ref: 'openapi#/components/schemas/ErrorResponseDto' };
  }

  /** Compiled once per distinct schema (most error responses share one), since compiling is the costly part. */
  private validator(schema: Schema): ValidateFunction {
    const known = this.bySchema.get(schema);
    if (known) return known;
    const key = JSON.stringify(schema);
    let v = this.validators.get(key);
    if (!v) {
      v = this.ajv.compile(rebase(schema) as Schema);
      this.validators.set(key, v);
    }
    this.bySchema.set(schema, v);
    return v;
  }

  /** One contract per distinct document in this test file: apps started with the same code serve the same document. */
  static for(doc: Document): ResponseContract {
    const key = JSON.stringify(doc);
    let contract = CONTRACTS.get(key);
    if (!contract) {
      contract = new ResponseContract(doc);
      CONTRACTS.set(key, contract);
    }
    return contract;
  }

  /** The problems of one answer, or none. */
  check(
    method: string,
    path: string,
    status: number,
    contentType: string | undefined,
    body: Buffer,
    headers: Record<string, unknown> = {},
  ): string[] {
    if (UNDOCUMENTED.test(path) || method === 'HEAD' || method === 'OPTIONS') return [];
    const missing = [
      ...(headers['x-request-id'] ? [] : ['X-Request-Id']),
      ...(status === 401 && !headers['www-authenticate'] ? ['WWW-Authenticate'] : []),
      ...(status === 429 && !headers['retry-after'] ? ['Retry-After'] : []),
    ];
    if (missing.length) return [`${status} without ${missing.join(', ')}`];
    const entry = this.paths.find((p) => p.pattern.test(path));
    const op = entry?.operations[method.toLowerCase()];
    if (!entry || !op) {
      // Not an operation of the document (404 for an unknown path, 405 for another method): still the error envelope.
      if (status < 400) return [`${status} answered outside the document`];
      return this.validateJson(this.errorSchema, contentType, body);
    }
    const response = op.responses[String(status)] ?? op.responses.default;
    if (!response) return [`status ${status} is not documented for ${method} ${entry.template}`];
    const content = response.content;
    if (!content) return body.length === 0 ? [] : [`a ${status} body is not documented for ${method} ${entry.template}`];
    const media = (contentType ?? '').split(';')[0].trim();
    const declared = content[media];
    if (!declared)
      return [
        `content type ${media || '(none)'} is not documented for ${status} of ${method} ${entry.template} (${Object.keys(content).join(', ')})`,
      ];
    if (!media.endsWith('json') || !declared.schema) return [];
    return this.validateJson(declared.schema, contentType, body);
  }

  private validateJson(schema: Schema, contentType: string | undefined, body: Buffer): string[] {
    if (!(contentType ?? '').includes('json')) return [`expected JSON, got ${contentType ?? 'no content type'}`];
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return ['the body is not JSON'];
    }
    const validate = this.validator(schema);
    if (validate(parsed)) return [];
    return (validate.errors ?? [])
      .slice(0, 5)
      .map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
  }

  /** Records every answer of `server` that breaks the document. */
  attach(server: Server): void {
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      // Read now: Express rewrites req.url below a mount point (the routes answered ahead of Nest).
      const path = (req.url ?? '/').split('?')[0];
      // The document describes the API; the MiCA pages and their assets (SPEC §18) are HTML outside it.
      if (!path.startsWith('/api/')) return;
      const method = req.method ?? 'GET';
      // The raw lane (src/hot-path) writes its headers through writeHead's argument, which getHeaders() does not see.
      const written: Record<string, unknown> = {};
      const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
      res.writeHead = (status: number, ...rest: unknown[]) => {
        const given = rest.find((r) => Array.isArray(r) || (r !== null && typeof r === 'object'));
        if (Array.isArray(given)) for (let i = 0; i + 1 < given.length; i += 2) written[String(given[i]).toLowerCase()] = given[i + 1];
        else if (given) for (const [k, v] of Object.entries(given as Record<string, unknown>)) written[k.toLowerCase()] = v;
        return writeHead(status, ...rest);
      };
      const chunks: Buffer[] = [];
      const write = res.write.bind(res) as (...args: unknown[]) => boolean;
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      const keep = (chunk: unknown, encoding?: unknown) => {
        if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
        chunks.push(
          Buffer.isBuffer(chunk)
            ? chunk
            : Buffer.from(String(chunk as string | Uint8Array), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'),
        );
      };
      res.write = ((chunk: unknown, ...rest: unknown[]) => {
        keep(chunk, rest[0]);
        return write(chunk, ...rest);
      }) as typeof res.write;
      res.end = ((chunk?: unknown, ...rest: unknown[]) => {
        keep(chunk, rest[0]);
        return end(chunk, ...rest);
      }) as typeof res.end;
      res.on('finish', () => {
        const headers = { ...written, ...(res.getHeaders() as Record<string, unknown>) };
        const type = headers['content-type'];
        for (const problem of this.check(
          method,
          path,
          res.statusCode,
          typeof type === 'string' ? type : undefined,
          Buffer.concat(chunks),
          headers,
        )) {
          const violation = { method, path, status: res.statusCode, problem };
          contractViolations.push(violation);
          if (process.env.CONTRACT_LOG) appendFileSync(process.env.CONTRACT_LOG, `${JSON.stringify(violation)}\n`);
        }
      });
    });
  }
}

/** `#/components/…` refs point into the document registered as `openapi`. */
function rebase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rebase);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `openapi${v}` : rebase(v)]),
    );
  }
  return value;
}
