/**
 * Scriptable misbehaviour at the provider boundary, shared by the fake provider and the
 * fault proxy in front of an external provider (provider-proxy/): one active fault,
 * optionally for the next N Mount calls only. `hang` never answers (the caller's deadline ends the call); `hold` keeps
 * Mount calls unanswered until the fault is cleared or replaced, then answers them at once,
 * as without a fault — so a test can let calls pile up and know they did, whatever the
 * machine's speed.
 */
export const faultModes = ['unavailable', 'error', 'latency', 'bad-path', 'oversize', 'hang', 'hold'] as const;
export type FaultMode = (typeof faultModes)[number];

export interface Fault {
  mode: FaultMode;
  /** The provider error code for mode `error`. */
  code?: string;
  /** Delay for mode `latency`. */
  latencyMs?: number;
  /** Apply to the next N Mount calls only; unlimited when absent. */
  count?: number;
}

export class FaultError extends Error {}

/** The file `bad-path` adds to a reply: a path escaping the volume, which the driver must refuse. */
export const badPathFile = () => ({ path: '../escaped-secret', mode: 0o644, contents: Buffer.from('x') });
/** The file `oversize` adds to a reply: 5 MiB, over the driver's default 4 MiB receive limit. */
export const oversizeFile = () => ({ path: 'oversize.bin', mode: 0o644, contents: Buffer.alloc(5 * 1024 * 1024) });

/** Checks a control-API body; throws FaultError with a message for the HTTP 400. */
export function parseFault(body: unknown): Fault {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new FaultError('expected a JSON object {mode, code?, latencyMs?, count?}');
  const b = body as Record<string, unknown>;
  if (!faultModes.includes(b.mode as FaultMode)) throw new FaultError(`mode must be one of ${faultModes.join(', ')}; got ${JSON.stringify(b.mode)}`);
  const fault: Fault = { mode: b.mode as FaultMode };
  if (b.code !== undefined) {
    if (typeof b.code !== 'string' || b.code === '') throw new FaultError('code must be a non-empty string');
    fault.code = b.code;
  }
  if (b.latencyMs !== undefined || fault.mode === 'latency') {
    if (typeof b.latencyMs !== 'number' || !Number.isFinite(b.latencyMs) || b.latencyMs < 0) {
      throw new FaultError('latencyMs must be a non-negative number (required for mode latency)');
    }
    fault.latencyMs = b.latencyMs;
  }
  if (b.count !== undefined) {
    if (typeof b.count !== 'number' || !Number.isInteger(b.count) || b.count < 1) throw new FaultError('count must be a positive whole number');
    fault.count = b.count;
  }
  return fault;
}

/** A call being answered: it may be cancelled by its caller (gRPC's ServerUnaryCall is one). */
export interface CancellableCall {
  once(event: 'cancelled', listener: () => void): unknown;
}

export class Faults {
  private active: Fault | null = null;
  private readonly listeners = new Set<() => void>();
  /** Calls kept unanswered by a `hold` fault, each answered when the fault changes. */
  private readonly held = new Set<() => void>();

  set(fault: Fault): void {
    this.active = { ...fault };
    this.changed();
  }

  clear(): void {
    this.active = null;
    this.changed();
  }

  /** Calls `listener` whenever the fault is set or cleared (what releases held calls). */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  private changed(): void {
    const release = [...this.held];
    this.held.clear();
    for (const answer of release) answer();
    for (const l of this.listeners) l();
  }

  /**
   * Answers `call` when `fault` (taken for it) lets it: at once without a fault or with one
   * that changes the reply (the caller applies those), after `latencyMs`, when a `hold`
   * ends, never for `hang` (the caller's deadline ends the call); `unavailable` calls `fail`.
   * A cancelled call drops its timer or its held answer.
   */
  schedule(fault: Fault | null, call: CancellableCall, answer: () => void, fail: () => void): void {
    switch (fault?.mode) {
      case 'unavailable':
        return fail();
      case 'hang':
        return;
      case 'hold':
        this.held.add(answer);
        call.once('cancelled', () => this.held.delete(answer));
        return;
      case 'latency': {
        const t = setTimeout(answer, fault.latencyMs);
        call.once('cancelled', () => clearTimeout(t));
        return;
      }
      default:
        answer();
    }
  }

  list(): Fault[] {
    return this.active ? [{ ...this.active }] : [];
  }

  /** The fault for the next Mount call, consuming one of its count. */
  takeForMount(): Fault | null {
    const f = this.active;
    if (!f) return null;
    if (f.count !== undefined && --f.count <= 0) this.active = null;
    return f;
  }

  /** The fault for a Version call: only unavailable, latency and hang apply; count is kept. */
  peekForVersion(): Fault | null {
    const f = this.active;
    return f && (f.mode === 'unavailable' || f.mode === 'latency' || f.mode === 'hang') ? f : null;
  }
}
