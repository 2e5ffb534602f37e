import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { ForbiddenTargetError, guardedLookup, hostOf, isForbiddenAddress, refuseUrl, TargetPolicy } from './webhook-target.guard';

export interface SendResult {
  outcome: 'DELIVERED' | 'FAILED' | 'REFUSED';
  responseStatus: number | null;
  error: string | null;
  durationMs: number;
}

/** What is read of a receiver's answer: its status matters, its body only as far as draining it. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * One POST to a receiver. The target is checked again here (the URL, and every address its name
 * resolves to, on the connection actually made); redirects are not followed (a 3xx is a failure);
 * the whole exchange, connect to last byte, is bounded by `timeoutMs`.
 */
export function sendWebhook(
  rawUrl: string,
  headers: Record<string, string>,
  body: string,
  options: TargetPolicy & { timeoutMs: number },
): Promise<SendResult> {
  const started = Date.now();
  const done = (outcome: SendResult['outcome'], responseStatus: number | null, error: string | null): SendResult => ({
    outcome,
    responseStatus,
    error: error ? error.slice(0, 500) : null,
    durationMs: Date.now() - started,
  });
  const refused = refuseUrl(rawUrl, options);
  if (refused) return Promise.resolve(done('REFUSED', null, `refused: url ${refused}`));
  const url = new URL(rawUrl);
  const host = hostOf(url);
  if (isIP(host) && !options.allowPrivateTargets && isForbiddenAddress(host)) {
    return Promise.resolve(done('REFUSED', null, 'refused: the address is private, loopback or link-local'));
  }
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'Trusset-Webhooks/1.0',
        },
        lookup: guardedLookup(options.allowPrivateTargets),
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) res.destroy();
        });
        const answer = () => {
          if (status >= 200 && status < 300) finish(done('DELIVERED', status, null));
          else
            finish(
              done(
                'FAILED',
                status,
                status >= 300 && status < 400
                  ? `redirect to ${String(res.headers.location ?? '').slice(0, 200)} not followed`
                  : `receiver answered ${status}`,
              ),
            );
        };
        res.on('end', answer);
        res.on('close', answer);
        res.on('error', answer);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish(done('FAILED', null, `timed out after ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e instanceof ForbiddenTargetError) finish(done('REFUSED', null, e.message));
      else finish(done('FAILED', null, `${e.code ?? 'error'}: ${e.message}`));
    });
    req.end(body);
  });
}
