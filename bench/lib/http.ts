import { Agent, request } from 'node:http';

export interface HttpResponse {
  status: number;
  body: string;
}

/** A keep-alive HTTP/1.1 client for one origin: lighter than fetch for driving load. */
export class HttpClient {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(baseUrl: string, maxSockets: number) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** Sends a request with an optional bearer token and JSON body; resolves with status and text. */
  send(
    method: 'GET' | 'POST',
    path: string,
    options: { token?: string; json?: unknown; timeoutMs?: number } = {},
  ): Promise<HttpResponse> {
    const payload = options.json === undefined ? undefined : JSON.stringify(options.json);
    const headers: Record<string, string | number> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.host, port: this.port, method, path, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.setTimeout(options.timeoutMs ?? 30_000, () =>
        req.destroy(new Error(`${method} ${path} timed out`)),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Like `send`, but rejects unless the status is `expected`; returns the parsed JSON body. */
  async json<T>(
    method: 'GET' | 'POST',
    path: string,
    expected: number,
    options: { token?: string; json?: unknown; timeoutMs?: number } = {},
  ): Promise<T> {
    const response = await this.send(method, path, options);
    if (response.status !== expected) {
      throw new Error(
        `${method} ${path}: expected ${expected}, got ${response.status} ${response.body.slice(0, 300)}`,
      );
    }
    return JSON.parse(response.body) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}
