/**
 * A success answer sent as it is, outside the envelope: for the few routes whose callers fix the
 * shape themselves (GitHub's secret-scanning partner format answers a bare JSON array).
 */
export class Unwrapped<T = unknown> {
  constructor(readonly body: T) {}
}
