import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import { AppException } from '../common/errors/app.exception';
import { JsonLogger } from '../common/logging/json-logger';
import type { LimitState } from '../rate-limit/rate-limiter.service';
import { MetricsService } from '../metrics/metrics.service';
import type { UsageTracker } from '../usage/usage.tracker';
import { GuardSkeleton } from './guard.skeleton';

/** The two calls a guard makes on the usage tracker, kept in order. */
class RecordedUsage {
  readonly calls: string[] = [];
  record(kind: string, id: string): void {
    this.calls.push(`record ${kind} ${id}`);
  }
  refuse(kind: string, id: string, reason: string): void {
    this.calls.push(`refuse ${kind} ${id} ${reason}`);
  }
}

/** A response that keeps its headers and finishes with a status when told. */
function response() {
  const headers: Record<string, string> = {};
  const res = Object.assign(new EventEmitter(), { statusCode: 200, headers });
  const setHeader = (name: string, value: string) => (res.headers[name] = value);
  const finish = (status: number) => {
    res.statusCode = status;
    res.emit('finish');
  };
  return { res: Object.assign(res, { setHeader }) as unknown as Response & { headers: Record<string, string> }, finish };
}

function skeleton() {
  const metrics = new MetricsService();
  const usage = new RecordedUsage();
  const steps = new GuardSkeleton(
    { guard: 'mica_key', what: 'mica key', outcomes: [], usage: { tracker: usage as unknown as UsageTracker, kind: 'mica_key' } },
    metrics,
    new JsonLogger('silent'),
  );
  const counted = async () =>
    Object.fromEntries(
      (await metrics.authDecisions.get()).values.filter((v) => v.value > 0).map((v) => [String(v.labels.outcome), v.value]),
    );
  return { steps, usage, counted };
}

const spent: LimitState = { limit: 5, remaining: 0, resetSeconds: 30, exceeded: true, rule: 'mica-minute' };

describe('GuardSkeleton', () => {
  it('answers an undecidable check AUTH_ERROR, never a pass, and counts it', async () => {
    const { steps, counted } = skeleton();
    await expect(steps.check(Promise.reject(new Error('statement timeout')), 'req-1')).rejects.toMatchObject({ code: 'AUTH_ERROR' });
    expect(await counted()).toEqual({ error: 1 });
  });

  it('passes a decided check through untouched', async () => {
    const { steps } = skeleton();
    await expect(steps.check(Promise.resolve('decided'), 'req-1')).resolves.toBe('decided');
  });

  it("counts a key's use only once its answer is known to be an admitted one", () => {
    const { steps, usage } = skeleton();
    const admitted = response();
    steps.countAdmitted('k1', admitted.res);
    expect(usage.calls).toEqual([]);
    admitted.finish(200);
    const refusedLater = response();
    steps.countAdmitted('k2', refusedLater.res);
    refusedLater.finish(400);
    expect(usage.calls).toEqual(['record mica_key k1']);
  });

  it("refuses a spent limit with the 429 and its headers, counted as the key's refusal and not as use", async () => {
    const { steps, usage, counted } = skeleton();
    const { res } = response();
    let refusal: unknown;
    try {
      steps.limit('k1', res, [spent, '-Minute']);
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toBeInstanceOf(AppException);
    expect(refusal).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', limiter: 'mica-minute', headers: { 'Retry-After': '30' } });
    expect(res.headers).toEqual({ 'X-RateLimit-Limit-Minute': '5', 'X-RateLimit-Remaining-Minute': '0', 'X-RateLimit-Reset-Minute': '30' });
    expect(usage.calls).toEqual(['refuse mica_key k1 RATE_LIMIT_EXCEEDED']);
    expect(await counted()).toEqual({ rate_limited: 1 });
  });
});
