/**
 * Service-account tokens as the kubelet requests them for a CSIDriver's `tokenRequests`:
 * JWT-shaped (header.payload.signature, base64url), with the audience, expiry and the
 * kubernetes.io claims of the pod and its ServiceAccount. The signature is random bytes —
 * nothing in the simulated cluster verifies it — but every field a provider reads is real.
 */
import { randomBytes } from 'node:crypto';

export interface TokenRequest {
  audience: string;
  expirationSeconds?: number;
}

export interface TokenSubject {
  namespace: string;
  podName: string;
  podUid: string;
  serviceAccountName: string;
  serviceAccountUid: string;
}

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const rfc3339 = (sec: number) => new Date(sec * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

export function issueToken(request: TokenRequest, subject: TokenSubject, nowMs = Date.now()): { token: string; expirationTimestamp: string } {
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + (request.expirationSeconds ?? 3600);
  const payload = {
    aud: [request.audience],
    exp,
    iat,
    nbf: iat,
    iss: 'https://kubernetes.default.svc.cluster.local',
    jti: randomBytes(16).toString('hex'),
    sub: `system:serviceaccount:${subject.namespace}:${subject.serviceAccountName}`,
    'kubernetes.io': {
      namespace: subject.namespace,
      pod: { name: subject.podName, uid: subject.podUid },
      serviceaccount: { name: subject.serviceAccountName, uid: subject.serviceAccountUid },
    },
  };
  const token = `${b64url({ alg: 'RS256', kid: 'sscsi-sim' })}.${b64url(payload)}.${randomBytes(64).toString('base64url')}`;
  return { token, expirationTimestamp: rfc3339(exp) };
}

/** The `csi.storage.k8s.io/serviceAccount.tokens` value: `{"<audience>": {token, expirationTimestamp}}`. */
export function tokensAttribute(requests: TokenRequest[], subject: TokenSubject, nowMs = Date.now()): string {
  const out: Record<string, { token: string; expirationTimestamp: string }> = {};
  for (const r of requests) out[r.audience] = issueToken(r, subject, nowMs);
  return JSON.stringify(out);
}
