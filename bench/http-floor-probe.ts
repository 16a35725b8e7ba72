#!/usr/bin/env node
/**
 * The floor of one Kubernetes API request, measured from its own process as the driver
 * makes them: `node dist/bench/http-floor-probe.js KUBECONFIG PATH COUNT` GETs PATH COUNT
 * times with node:https over one keep-alive connection (TLS and credentials from the
 * kubeconfig, nothing else) and prints `{"samplesMs": [...]}` for the timed half.
 */
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

async function main(): Promise<void> {
  const [kubeconfig, path, countText] = process.argv.slice(2);
  const count = Number(countText);
  if (!kubeconfig || !path || !(count > 0)) throw new Error('usage: http-floor-probe KUBECONFIG PATH COUNT');
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const url = new URL(path, kc.getCurrentCluster()!.server);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const get = () =>
    new Promise<void>((resolve, reject) => {
      const req = https.get(url, { ...opts, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`GET ${url.pathname}: HTTP ${res.statusCode}`));
          else {
            JSON.parse(Buffer.concat(chunks).toString('utf8'));
            resolve();
          }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  const samplesMs: number[] = [];
  for (let i = 0; i < count * 2; i++) {
    const t = performance.now();
    await get();
    if (i >= count) samplesMs.push(performance.now() - t);
  }
  agent.destroy();
  process.stdout.write(`${JSON.stringify({ samplesMs })}\n`);
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
