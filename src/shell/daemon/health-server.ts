/**
 * The daemon's HTTP listener (loopback by default): `/healthz` answers 200 or 503 with a JSON body
 * saying why; `/metrics` answers Prometheus text. Nothing else, no request bodies read.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DaemonMetrics } from './metrics.js';

export interface HealthReport {
  readonly healthy: boolean;
  /** `degraded`: the last run could not read part of AWS, or resolve a role-map group, and held it (503 like unhealthy). */
  readonly status: 'healthy' | 'degraded' | 'unhealthy';
  /** Why not healthy: never-ran, failed, refused, stale, stopping, degraded. */
  readonly reason?: string | undefined;
  readonly [detail: string]: unknown;
}

export class HealthServer {
  #server: http.Server | undefined;
  #url = '';

  constructor(
    private readonly health: () => HealthReport,
    private readonly metrics: DaemonMetrics,
  ) {}

  get url(): string {
    return this.#url;
  }

  async start(host: string, port: number): Promise<string> {
    const server = http.createServer((req, res) => {
      void this.#handle(req, res);
    });
    server.keepAliveTimeout = 2_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    const addr = server.address() as AddressInfo;
    this.#url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
    return this.#url;
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').replace(/\?.*$/, '');
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(res, 405, 'application/json', JSON.stringify({ error: 'method not allowed' }), { allow: 'GET, HEAD' });
      } else if (path === '/healthz') {
        const report = this.health();
        send(res, report.healthy ? 200 : 503, 'application/json', `${JSON.stringify(report)}\n`);
      } else if (path === '/metrics') {
        send(res, 200, this.metrics.contentType, await this.metrics.text());
      } else {
        send(res, 404, 'application/json', JSON.stringify({ error: `no such path ${path}; try /healthz or /metrics` }));
      }
    } catch (e) {
      send(res, 500, 'application/json', JSON.stringify({ error: e instanceof Error ? e.message : String(e) }));
    }
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function send(res: http.ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers });
  res.end(body);
}
