import express, { NextFunction, Request, RequestHandler, Response } from 'express';
import { sendError } from './envelope';

/** A request read by a jsonBody with keepRawBody: the body's bytes as they arrived. */
export type RawBodyRequest = Request & { rawBody?: Buffer };

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Deeper than any body of this API; the validation pipe recurses and must never meet ~2,000 levels. */
export const MAX_JSON_DEPTH = 32;
/** Names that reach object prototypes; JSON.parse makes them own fields the validator cannot see. */
const FORBIDDEN_FIELDS = new Set(['__proto__', 'constructor', 'prototype']);

type Problem = { path: string; problem: string };

/** Walks a parsed body without recursion, calling `visit` on every field until it reports a problem. */
function walk(
  body: unknown,
  visit: (name: string, path: string, depth: number, inArray: boolean) => Problem | undefined,
): Problem | undefined {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value: body, depth: 0, path: '' }];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return { path: path || 'body', problem: `must not be nested more than ${MAX_JSON_DEPTH} levels deep` };
    for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
      const childPath = path ? `${path}.${name}` : name;
      const problem = visit(name, childPath, depth, Array.isArray(value));
      if (problem) return problem;
      stack.push({ value: child, depth: depth + 1, path: childPath });
    }
  }
  return undefined;
}

/** The first field deeper than MAX_JSON_DEPTH, with its path: refused before anything recurses over the body. */
export function tooDeepJson(body: unknown): Problem | undefined {
  return walk(body, () => undefined);
}

/**
 * The first field named like a prototype, with its path. Refused like any unknown field, but after
 * authentication (RefusePrototypeFieldsInterceptor): a bad credential is 401 whatever its body.
 */
export function prototypeField(body: unknown): Problem | undefined {
  return walk(body, (name, path, _depth, inArray) =>
    !inArray && FORBIDDEN_FIELDS.has(name) ? { path, problem: 'is not allowed' } : undefined,
  );
}

function carriesBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

/**
 * JSON is the only body the API reads. A body of another type is 415, an oversized one 413, a broken
 * one 400 — each in the envelope, since this runs before Nest's own error handling.
 */
export function jsonBody(limitBytes: number, options: { keepRawBody?: boolean } = {}): RequestHandler {
  const parse = express.json({
    limit: limitBytes,
    strict: false,
    type: () => true,
    // A signed body is verified over its exact bytes, not over a re-serialisation of the parsed value.
    ...(options.keepRawBody
      ? { verify: (req: Request, _res: Response, buf: Buffer) => ((req as RawBodyRequest).rawBody = Buffer.from(buf)) }
      : {}),
  });
  return (req: Request, res: Response, next: NextFunction) => {
    if (!METHODS_WITH_BODY.has(req.method) || !carriesBody(req)) return next();
    const type = req.headers['content-type'];
    if (!type || !JSON_TYPE.test(type)) return sendError(req, res, 'UNSUPPORTED_MEDIA_TYPE');
    parse(req, res, (err?: { type?: string; status?: number }) => {
      if (!err) {
        const unsafe = tooDeepJson(req.body);
        if (unsafe) return sendError(req, res, 'VALIDATION_ERROR', undefined, { [unsafe.path]: [unsafe.problem] });
        return next();
      }
      switch (err.type) {
        case 'entity.too.large':
          return sendError(req, res, 'PAYLOAD_TOO_LARGE');
        case 'charset.unsupported':
        case 'encoding.unsupported':
          return sendError(req, res, 'UNSUPPORTED_MEDIA_TYPE', 'Only UTF-8 JSON bodies are accepted.');
        case 'entity.parse.failed':
          return sendError(req, res, 'VALIDATION_ERROR', 'The request body is not valid JSON.');
        case 'request.aborted':
        case 'request.size.invalid':
          return sendError(req, res, 'VALIDATION_ERROR', 'The request body was incomplete.');
        default:
          return sendError(req, res, 'VALIDATION_ERROR', 'The request body could not be read.');
      }
    });
  };
}
