/**
 * The fake provider's CSIDriverProvider service. Mount reads the SPC parameter `objects`
 * (a YAML list of {objectName, fileName?, mode?}) and answers one file and one object
 * version per object, from the store — unless a fault says otherwise. Every request is
 * counted and the last one kept, with secret and token values redacted, for the control API.
 */
import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { Logger } from '../log/logger.js';
import type { CSIDriverProviderHandlers } from '../proto/gen/v1alpha1/CSIDriverProvider.js';
import type { File } from '../proto/gen/v1alpha1/File.js';
import type { MountRequest__Output } from '../proto/gen/v1alpha1/MountRequest.js';
import { badPathFile, oversizeFile, type Faults } from './faults.js';
import type { ObjectStore } from './store.js';

export const tokensAttribute = 'csi.storage.k8s.io/serviceAccount.tokens';

export interface RecordedRequest {
  attributes: Record<string, unknown>;
  secrets: Record<string, string> | null;
  permission: string;
  currentObjectVersion: Array<{ id: string; version: string }>;
}

export interface ObjectSpec {
  objectName: string;
  fileName?: string;
  mode?: number;
}

class BadRequest extends Error {}

export function redact(value: string): string {
  return `[redacted sha256:${createHash('sha256').update(value).digest('hex').slice(0, 16)}]`;
}

function parseJsonMap(text: string, field: string, allowNull: boolean): Record<string, string> | null {
  if (text === '' || (allowNull && text === 'null')) return allowNull ? null : {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new BadRequest(`${field} is not valid JSON: ${(err as Error).message}`);
  }
  if (v === null && allowNull) return null;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new BadRequest(`${field} must be a JSON object of strings`);
  return v as Record<string, string>;
}

function parseMode(raw: unknown, objectName: string): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  let mode: number;
  if (typeof raw === 'number') mode = raw;
  else if (typeof raw === 'string' && /^(0o?)?[0-7]+$/.test(raw)) mode = parseInt(raw.replace(/^0o/, ''), 8);
  else throw new BadRequest(`object ${JSON.stringify(objectName)}: mode must be a number or an octal string such as "0600"`);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) throw new BadRequest(`object ${JSON.stringify(objectName)}: mode must be within 0..511 (0o777)`);
  return mode;
}

/** Parsed `objects` parameters by text: every pod of an SPC sends the same one. */
const parsedObjects = new Map<string, readonly ObjectSpec[]>();

/** `parseObjects` with a small cache (parsing YAML dominated a Mount call's cost). */
function parseObjectsCached(text: string | undefined): readonly ObjectSpec[] {
  const hit = text === undefined ? undefined : parsedObjects.get(text);
  if (hit) return hit;
  const parsed = parseObjects(text);
  if (parsedObjects.size >= 512) parsedObjects.delete(parsedObjects.keys().next().value!);
  parsedObjects.set(text!, parsed);
  return parsed;
}

/** The SPC parameter `objects`: a YAML list of {objectName, fileName?, mode?}. */
function parseObjects(text: string | undefined): ObjectSpec[] {
  if (text === undefined || text.trim() === '') throw new BadRequest('the SecretProviderClass parameter "objects" is missing: list the objects to mount as YAML, e.g. "- objectName: db-password"');
  let list: unknown;
  try {
    list = parseYaml(text);
  } catch (err) {
    throw new BadRequest(`the "objects" parameter is not valid YAML: ${(err as Error).message}`);
  }
  if (!Array.isArray(list)) throw new BadRequest('the "objects" parameter must be a YAML list of {objectName, fileName?, mode?}');
  return list.map((entry: unknown, i) => {
    const e = entry as Record<string, unknown> | null;
    if (!e || typeof e.objectName !== 'string' || e.objectName === '') throw new BadRequest(`objects[${i}]: objectName is required`);
    if (e.fileName !== undefined && typeof e.fileName !== 'string') throw new BadRequest(`objects[${i}]: fileName must be a string`);
    const spec: ObjectSpec = { objectName: e.objectName };
    if (e.fileName !== undefined) spec.fileName = e.fileName as string;
    const mode = parseMode(e.mode, e.objectName);
    if (mode !== undefined) spec.mode = mode;
    return spec;
  });
}

function redactAttributes(attributes: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...attributes };
  const tokens = attributes[tokensAttribute];
  if (tokens !== undefined) {
    try {
      const parsed = JSON.parse(tokens) as Record<string, { token?: string; expirationTimestamp?: string }>;
      out[tokensAttribute] = Object.fromEntries(
        Object.entries(parsed).map(([aud, t]) => [aud, { token: redact(String(t?.token ?? '')), expirationTimestamp: t?.expirationTimestamp }]),
      );
    } catch {
      out[tokensAttribute] = redact(tokens);
    }
  }
  return out;
}

export interface FakeProviderServiceOptions {
  store: ObjectStore;
  faults: Faults;
  logger: Logger;
  runtimeVersion: string;
  /** In-process only: every Mount request as received, unredacted (the conformance kit compares it with the contract). */
  onMount?: ((req: MountRequest__Output) => void) | undefined;
}

export class FakeProviderService {
  requests = 0;
  /** Mount calls being answered now, and the most at once since start or the last reset. */
  inflight = 0;
  maxInflight = 0;
  lastRequest: RecordedRequest | null = null;

  constructor(private readonly options: FakeProviderServiceOptions) {}

  private mount(req: MountRequest__Output): { files: File[]; versions: Array<{ id: string; version: string }> } {
    const attributes = parseJsonMap(req.attributes, 'attributes', false) ?? {};
    this.options.onMount?.(req);
    const secrets = parseJsonMap(req.secrets, 'secrets', true);
    if (!/^(0|[1-9]\d*)$/.test(req.permission)) throw new BadRequest(`permission must be a decimal file mode such as "420"; got ${JSON.stringify(req.permission)}`);
    this.lastRequest = {
      attributes: redactAttributes(attributes),
      secrets: secrets && Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, redact(String(v))])),
      permission: req.permission,
      currentObjectVersion: req.current_object_version.map((o) => ({ id: o.id, version: o.version })),
    };
    const permission = Number(req.permission);
    const files: File[] = [];
    const versions: Array<{ id: string; version: string }> = [];
    for (const spec of parseObjectsCached(attributes.objects)) {
      const obj = this.options.store.get(spec.objectName);
      if (!obj) {
        const err = new Error(`object ${JSON.stringify(spec.objectName)} not found in the fake provider's store`);
        (err as Error & { grpcCode: grpc.status }).grpcCode = grpc.status.NOT_FOUND;
        throw err;
      }
      files.push({ path: spec.fileName ?? spec.objectName, mode: spec.mode ?? permission, contents: obj.contents });
      versions.push({ id: spec.objectName, version: obj.version });
    }
    return { files, versions };
  }

  handlers(): CSIDriverProviderHandlers {
    const { faults, logger, runtimeVersion } = this.options;
    return {
      Version: (call, callback) => {
        const answer = () => callback(null, { version: 'v1alpha1', runtime_name: 'fake-provider', runtime_version: runtimeVersion });
        faults.schedule(faults.peekForVersion(), call, answer, () => callback({ code: grpc.status.UNAVAILABLE, details: 'fake provider fault: unavailable' }));
      },

      Mount: (call, callback) => {
        this.requests++;
        this.inflight++;
        this.maxInflight = Math.max(this.maxInflight, this.inflight);
        let finished = false;
        const finish = () => {
          if (!finished) {
            finished = true;
            this.inflight--;
          }
        };
        call.once('cancelled', finish);
        const started = performance.now();
        const attrs = (() => {
          try {
            return JSON.parse(call.request.attributes) as Record<string, string>;
          } catch {
            return {};
          }
        })();
        const who = { pod: attrs['csi.storage.k8s.io/pod.name'], namespace: attrs['csi.storage.k8s.io/pod.namespace'] };
        const fault = faults.takeForMount();
        const done = (err: Partial<grpc.StatusObject> | null, files?: File[], versions?: Array<{ id: string; version: string }>, code?: string) => {
          finish();
          const ms = Math.round((performance.now() - started) * 100) / 100;
          if (err) logger.info({ ...who, ms, code: grpc.status[err.code ?? grpc.status.UNKNOWN], err: err.details }, 'mount failed');
          else logger.info({ ...who, ms, objects: versions, fault: fault?.mode, errorCode: code }, 'mount');
          if (err) callback(err);
          else callback(null, { files: files ?? [], object_version: versions ?? [], ...(code ? { error: { code } } : {}) });
        };
        const answer = () => {
          let result;
          try {
            result = this.mount(call.request);
          } catch (err) {
            const code = err instanceof BadRequest ? grpc.status.INVALID_ARGUMENT : ((err as { grpcCode?: grpc.status }).grpcCode ?? grpc.status.INTERNAL);
            return done({ code, details: (err as Error).message });
          }
          switch (fault?.mode) {
            case 'error':
              return done(null, [], result.versions, fault.code ?? 'FakeProviderError');
            case 'bad-path':
              return done(null, [...result.files, badPathFile()], result.versions);
            case 'oversize':
              return done(null, [...result.files, oversizeFile()], result.versions);
            default:
              return done(null, result.files, result.versions);
          }
        };
        if (fault?.mode === 'hang') logger.info({ ...who }, 'mount hanging until the caller gives up (fault)');
        faults.schedule(fault, call, answer, () => done({ code: grpc.status.UNAVAILABLE, details: 'fake provider fault: unavailable' }));
      },
    };
  }
}
