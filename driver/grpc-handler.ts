import type * as grpc from '@grpc/grpc-js';
import { messageOf, Status, statusOf } from './csi-error.js';

/** The caller's deadline as epoch ms (Infinity when it set none). */
export function deadlineOf(call: grpc.ServerUnaryCall<unknown, unknown>): number {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(ms) && ms > 0 ? ms : Infinity;
}

/** Adapts an async handler to grpc-js: a thrown CsiError becomes its status and message. */
export function unary<Req, Res>(
  fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request, call))
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback({ code: statusOf(err), details: messageOf(err) }),
      );
  };
}

/** A handler for an RPC this driver does not offer. */
export function unimplemented<Req, Res>(rpc: string): grpc.handleUnaryCall<Req, Res> {
  return (_call, callback) => callback({ code: Status.UNIMPLEMENTED, details: `${rpc} is not implemented by this driver` });
}
