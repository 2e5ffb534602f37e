import { createServer, IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The payload fields the suites read: the instance or MiCA account an event is about and the key it
 * names (each present on the events the suites read it from), then whatever else the event carries.
 */
export interface WebhookData {
  instance: { instanceRef: string };
  developer: { id: string };
  key: { id: string; name: string };
  [field: string]: unknown;
}

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  /** The raw body, as signed. */
  body: string;
  json: { type: string; timestamp: string; data: WebhookData };
  at: number;
}

/** How the receiver answers one request: a status, a status with headers, or 'hang' (never answers). */
export type Answer = number | 'hang' | { status: number; headers: Record<string, string> };

/**
 * A real HTTP receiver on 127.0.0.1 for the webhook suites: records every request whole and answers
 * with the scripted statuses (then 204 once the script runs out).
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private script: Answer[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private waiters: Array<() => void> = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<WebhookReceiver> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => receiver.handle(req.headers, Buffer.concat(chunks).toString('utf8'), res));
    });
    const receiver = new WebhookReceiver(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The next answers, in order. */
  answer(...answers: Answer[]): void {
    this.script.push(...answers);
  }

  of(type: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.json.type === type);
  }

  /** Waits until `predicate` holds over what was received (checked on every arrival). */
  async waitFor(predicate: (received: ReceivedWebhook[]) => boolean, timeoutMs = 10_000): Promise<ReceivedWebhook[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `receiver: condition not met in ${timeoutMs} ms; got ${this.received.map((r) => r.json.type).join(', ') || 'nothing'}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received;
  }

  async waitForType(type: string, count = 1, timeoutMs?: number): Promise<ReceivedWebhook[]> {
    await this.waitFor((r) => r.filter((x) => x.json.type === type).length >= count, timeoutMs);
    return this.of(type);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private handle(headers: IncomingHttpHeaders, body: string, res: ServerResponse): void {
    let json: ReceivedWebhook['json'];
    try {
      json = JSON.parse(body);
    } catch {
      // A body that is not JSON has none of the payload's fields; no suite reads them from one.
      json = { type: '<not json>', timestamp: '', data: {} as WebhookData };
    }
    this.received.push({ headers, body, json, at: Date.now() });
    const answer = this.script.shift() ?? 204;
    if (answer === 'hang') this.hanging.add(res);
    else if (typeof answer === 'number') res.writeHead(answer).end();
    else res.writeHead(answer.status, answer.headers).end();
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  }
}
