/**
 * The driver's shared keep-alive dispatchers: requests with the same TLS settings share one
 * undici Agent; different settings (a rotated client certificate) get their own, and the
 * least recently used is closed once more than four are kept.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { shareDispatchers } from '../../driver/k8s/kube-config.js';

type Dispatch = (cluster: unknown, opts: Record<string, unknown>) => { close(): Promise<void> } | undefined;


function kubeConfig(): { kc: KubeConfig; dispatch: Dispatch; cluster: unknown } {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: false }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  shareDispatchers(kc);
  const dispatch = (kc as unknown as { createDispatcher: Dispatch }).createDispatcher.bind(kc);
  return { kc, dispatch, cluster: kc.getCurrentCluster() };
}

describe('shareDispatchers', () => {
  it('hands out one dispatcher per distinct TLS settings, comparing certificate bytes', async () => {
    const { dispatch, cluster } = kubeConfig();
    const a = dispatch(cluster, { ca: Buffer.from('CA-1'), rejectUnauthorized: true });
    // Equal bytes in a new Buffer (client-node reads the files again per request).
    expect(dispatch(cluster, { ca: Buffer.from('CA-1'), rejectUnauthorized: true })).toBe(a);
    const b = dispatch(cluster, { ca: Buffer.from('CA-2'), rejectUnauthorized: true });
    expect(b).not.toBe(a);
    expect(dispatch(cluster, { ca: Buffer.from('CA-1'), rejectUnauthorized: false })).not.toBe(a);
    expect(dispatch(cluster, { ca: Buffer.from('CA-1'), rejectUnauthorized: true, cert: Buffer.from('C') })).not.toBe(a);
    expect(dispatch(cluster, { ca: Buffer.from('CA-2'), rejectUnauthorized: true })).toBe(b);
    await Promise.all([a, b].map((d) => d?.close()));
  });

  it('keeps at most four and closes the least recently used', async () => {
    const { dispatch, cluster } = kubeConfig();
    const made = [1, 2, 3, 4].map((i) => dispatch(cluster, { ca: Buffer.from(`CA-${i}`) }) as unknown as { closed: boolean; close(): Promise<void> });
    expect(made.map((d) => d.closed)).toEqual([false, false, false, false]);
    expect(dispatch(cluster, { ca: Buffer.from('CA-1') })).toBe(made[0]); // now most recent
    dispatch(cluster, { ca: Buffer.from('CA-5') }); // evicts CA-2, the least recently used
    expect(made.map((d) => d.closed)).toEqual([false, true, false, false]);
    expect(dispatch(cluster, { ca: Buffer.from('CA-1') })).toBe(made[0]);
    expect(dispatch(cluster, { ca: Buffer.from('CA-2') })).not.toBe(made[1]);
    await Promise.all(made.filter((d) => !d.closed).map((d) => d.close()));
  });
});
