/**
 * What the driver checks expect of an RPC's outcome and of a target afterwards: a reply
 * that must come, an exact gRPC code (validation is INVALID_ARGUMENT exactly), and a target
 * a kubelet retry can start afresh from.
 */
import { expect } from '../check.js';
import { describeRpc, type DriverKit, type RpcOutcome } from './driver-kit.js';
import { describeState, isClean, targetState } from './target-inspection.js';

/** The reply of an RPC that must succeed; otherwise the check fails naming the RPC. */
export async function replyOf<T>(kit: DriverKit, call: Promise<T>, rpc: string): Promise<T> {
  const o = await kit.rpc(call);
  expect(o.ok, `${rpc} failed: ${describeRpc(o)}`, 'OK', describeRpc(o));
  return o.reply!;
}

/** The code must be `code`; evidence names what came back. */
export function expectCode(o: RpcOutcome, code: string, what: string): void {
  expect(o.code === code, `${what}: expected ${code}, got ${describeRpc(o)}`, code, describeRpc(o));
}

export async function expectClean(target: string, what: string): Promise<void> {
  const s = await targetState(target);
  expect(isClean(s), `${what}, but the target was left ${describeState(s)}: a kubelet retry would not start fresh`, 'not mounted, no files', describeState(s));
}

