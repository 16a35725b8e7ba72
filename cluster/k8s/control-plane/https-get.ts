/**
 * One GET over HTTPS (or HTTP) with the cluster's CA and an optional client certificate: how
 * readiness endpoints (/readyz, /healthz) are asked. Never throws for a status code; a refused
 * connection or a timeout rejects.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KeyPair } from './openssl.js';

export interface HttpAnswer {
  status: number;
  body: string;
}

export interface TlsFiles {
  ca: string;
  client?: KeyPair;
}

export function httpGet(url: string, tls?: TlsFiles, timeoutMs = 3000): Promise<HttpAnswer> {
  const u = new URL(url);
  const options =
    u.protocol === 'https:' && tls
      ? { ca: readFileSync(tls.ca), ...(tls.client ? { cert: readFileSync(tls.client.cert), key: readFileSync(tls.client.key) } : {}) }
      : {};
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(u, { method: 'GET', timeout: timeoutMs, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
