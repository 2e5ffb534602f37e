import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CODES, ErrorCode } from '../common/errors/error-codes';
import { challengeFor } from '../common/http/www-authenticate';
import type { ErrorDetails } from '../common/errors/app.exception';
import type { JsonLogger } from '../common/logging/json-logger';
import type { InstanceAuthGuard } from '../auth/instance-auth.guard';
import type { InstanceKeyIdentity } from '../auth/instance-key.verifier';
import { SERVICE_NAMES } from '../domain/platform-services';
import { appendLimitHeaders, RETRY_AFTER } from '../rate-limit/rate-limiter.service';
import { errorJson, headerSafe, isoNow, writeAnswer } from './hot-path.response';
import type { RefusalPacer } from './refusal-pacer';

export const VERIFY_PATH = '/api/auth/verify';

/**
 * The header a failed verify answer carries its own envelope in. nginx's auth_request throws the
 * subrequest's body away and turns every status but 2xx/401/403 into 500, so the gateway recipe
 * (deploy/nginx) maps `$upstream_status` and this header back into the service's exact answer.
 */
export const VERIFY_ERROR_HEADER = 'X-Trusset-Error';

const CLIENT_TRUSSET_HEADER_DETAIL = ['is set by the gateway from the key check; a client may not send it'];

/**
 * Names of X-Trusset-* headers the client sent. The gateway recipes send the client's headers to
 * the check, and the upstream trusts X-Trusset-* as the gateway's word: a client-sent one must not
 * reach it (nginx cannot strip headers by prefix, so the check refuses them instead).
 */
export function clientTrussetHeaders(req: IncomingMessage): ErrorDetails | undefined {
  const raw = req.rawHeaders;
  let found: ErrorDetails | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length > 10 && (name.charCodeAt(0) | 0x20) === 0x78 && name.slice(0, 10).toLowerCase() === 'x-trusset-') {
      (found ??= {})[name] = CLIENT_TRUSSET_HEADER_DETAIL;
    }
  }
  return found;
}

/**
 * The whole answer of GET /api/auth/verify, shared by the raw lane (common = true) and the Express
 * fallback: the decision is InstanceAuthGuard.decide, the same function the Nest guard uses; this
 * only writes it. `queryProblem` is the fallback's query validation, applied after the key like
 * the Nest route did.
 */
export class VerifyAnswer {
  constructor(
    private readonly guard: InstanceAuthGuard,
    private readonly logger: JsonLogger,
    /** The client's address as the app sees it: the socket's, or under TRUST_PROXY the forwarded one (for keys with allowedCidrs). */
    private readonly clientIp: (req: IncomingMessage) => string | undefined,
    private readonly pacer: RefusalPacer,
    private readonly paced: { inc(): void },
  ) {}

  /** Resolves with the status written; never rejects. */
  async answer(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    service: unknown,
    common: boolean,
    queryProblem?: ErrorDetails,
  ): Promise<number> {
    try {
      // A query fault or a client-sent X-Trusset-* header is 400, once the key is known good, spending nothing.
      const spoofed = clientTrussetHeaders(req);
      const inputProblem = queryProblem || spoofed ? { ...queryProblem, ...spoofed } : undefined;
      const decision = await this.guard.decide(req.headers['x-api-key'], service, {
        clientIp: () => this.clientIp(req),
        requestId,
        inputProblem,
      });
      const headers: string[] = [];
      // Written here rather than through enforceLimits: a refusal on this lane is a value, not an exception.
      if (decision.limit) appendLimitHeaders(headers, decision.limit);
      if (!decision.ok) {
        if (decision.code === 'RATE_LIMIT_EXCEEDED') headers.push(RETRY_AFTER, String(decision.limit!.resetSeconds));
        const status = ERROR_CODES[decision.code].status;
        if (status === 401) {
          this.pacer.refused();
          if (this.pacer.pacing) {
            this.paced.inc();
            await this.pacer.wait();
            // The client gave up while it waited: nothing to write.
            if (res.destroyed) return status;
          }
        }
        return this.error(res, decision.code, headers, requestId, common, decision.details);
      }
      const identity = decision.identity;
      this.guard.admitted(identity.keyId);
      this.pacer.admitted();
      headers.push('Cache-Control', 'no-store', 'X-Trusset-Instance-Ref', identity.instanceRef, 'X-Trusset-Key-Id', identity.keyId);
      writeAnswer(res, 200, headers, successJson(identity, requestId), requestId, common);
      return 200;
    } catch (e) {
      this.logger.event('error', 'request failed', { requestId, route: VERIFY_PATH, err: e });
      if (res.headersSent) {
        res.destroy();
        return 500;
      }
      return this.error(res, 'INTERNAL_ERROR', [], requestId, common);
    }
  }

  private error(
    res: ServerResponse,
    code: ErrorCode,
    headers: string[],
    requestId: string,
    common: boolean,
    details?: ErrorDetails,
  ): number {
    const body = errorJson(code, requestId, details);
    const status = ERROR_CODES[code].status;
    // Every 401 names its scheme (SPEC §19), as the Express lane's sendError does.
    if (status === 401) headers.push('WWW-Authenticate', challengeFor(code));
    headers.push(VERIFY_ERROR_HEADER, headerSafe(body));
    writeAnswer(res, status, headers, body, requestId, common);
    return status;
  }
}

const SERVICE_ORDER = new Map(SERVICE_NAMES.map((name, i) => [name, i]));

// A cached key answers with the same identity object while its state holds (instance-key.verifier.ts),
// so the identity itself keys its prefix; a new state is a new object, and a dropped one takes its prefix along.
const prefixes = new WeakMap<InstanceKeyIdentity, string>();

/**
 * The success envelope of the route (VerifiedKeyDto), services in their declared order, byte for
 * byte what JSON.stringify writes: the identity's part is serialised once per key and state, and
 * only the request id (a sane id or a UUID: nothing to escape) and the time are added per answer.
 */
export function successJson(identity: InstanceKeyIdentity, requestId: string): string {
  let prefix = prefixes.get(identity);
  if (prefix === undefined) {
    const services =
      identity.services.length > 1
        ? [...identity.services].sort((a, b) => SERVICE_ORDER.get(a)! - SERVICE_ORDER.get(b)!)
        : identity.services;
    const data = {
      instanceRef: identity.instanceRef,
      instanceId: identity.instanceId,
      keyId: identity.keyId,
      keyStatus: identity.keyStatus,
      services,
    };
    prefix = `{"success":true,"data":${JSON.stringify(data)},"metadata":{"requestId":"`;
    prefixes.set(identity, prefix);
  }
  return `${prefix}${requestId}","timestamp":"${isoNow()}"}}`;
}
