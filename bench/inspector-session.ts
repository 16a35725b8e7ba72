/**
 * A minimal Chrome DevTools Protocol session with a process started with
 * `--inspect=127.0.0.1:0`: the benchmarks use it to force a full garbage collection in the
 * driver and read its heap, so a per-volume memory figure measures what the driver keeps
 * rather than garbage it has not collected yet. Nothing in the driver changes for this.
 */
import type { ManagedProcess } from '../harness/managed-process.js';

interface HeapUsage {
  usedBytes: number;
}

interface InspectorSession {
  /** A full, blocking garbage collection in the inspected process. */
  collectGarbage(): Promise<void>;
  heapUsage(): Promise<HeapUsage>;
  close(): void;
}

/** Connects to the inspector a process announced on stderr ("Debugger listening on ws://..."). */
export async function connectInspector(proc: ManagedProcess, timeoutMs = 20_000): Promise<InspectorSession> {
  const line = await proc.waitForLine(/Debugger listening on ws:\/\//, timeoutMs);
  const url = /ws:\/\/\S+/.exec(line)![0];
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`cannot connect to the inspector at ${url}`)), { once: true });
  });
  let seq = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  ws.addEventListener('message', (ev) => {
    const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (msg.id === undefined) return;
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) p?.reject(new Error(`inspector: ${msg.error.message}`));
    else p?.resolve(msg.result);
  });
  ws.addEventListener('close', () => {
    for (const p of pending.values()) p.reject(new Error('inspector connection closed'));
    pending.clear();
  });
  const send = <T>(method: string, params: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = ++seq;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    async collectGarbage() {
      await send('HeapProfiler.collectGarbage');
    },
    async heapUsage() {
      const r = await send<{ usedSize: number }>('Runtime.getHeapUsage');
      return { usedBytes: r.usedSize };
    },
    close() {
      ws.close();
    },
  };
}
