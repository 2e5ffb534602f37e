import { AddressInfo, createServer, Server, Socket, connect } from 'node:net';

/**
 * A loopback TCP proxy in front of PostgreSQL, so a test can make the database vanish for the app
 * (`cut`), go silent on open connections like a half-open TCP link (`freeze`), and come back
 * (`restore`, `thaw`) without stopping the machine's server.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  private refusing = false;
  private frozen = false;
  private readonly pairs = new Set<[Socket, Socket]>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static forUrl(url: string): { proxy: TcpProxy; urlVia: (port: number) => string } {
    const u = new URL(url);
    const proxy = new TcpProxy(u.hostname, Number(u.port || 5432));
    return {
      proxy,
      urlVia: (port: number) => {
        const v = new URL(url);
        v.hostname = '127.0.0.1';
        v.port = String(port);
        return v.toString();
      },
    };
  }

  async start(): Promise<number> {
    this.server = createServer((client) => {
      if (this.refusing) return client.destroy();
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      if (this.frozen) TcpProxy.stall(pair);
      else TcpProxy.connect(pair);
      client.on('close', () => {
        this.pairs.delete(pair);
        upstream.destroy();
      });
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  /** Drops every open connection and refuses new ones, as a crashed database server would. */
  cut(): void {
    this.refusing = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.refusing = false;
  }

  /** Keeps every connection open but lets no byte through, in either direction: nothing errors. */
  freeze(): void {
    this.frozen = true;
    for (const pair of this.pairs) TcpProxy.stall(pair);
  }

  thaw(): void {
    this.frozen = false;
    for (const pair of this.pairs) TcpProxy.connect(pair);
  }

  private static connect([client, upstream]: [Socket, Socket]): void {
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
    upstream.resume();
  }

  private static stall([client, upstream]: [Socket, Socket]): void {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }
}
