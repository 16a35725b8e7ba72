/**
 * The fake provider's objects: loaded from a YAML store file, changed at run time through
 * the control API. Each object has a name, a version and bytes.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface StoredObject {
  name: string;
  version: string;
  contents: Buffer;
}

export interface ObjectInput {
  name: string;
  version?: string;
  contents?: string;
  contentsBase64?: string;
}

function decode(input: ObjectInput, where: string): Buffer {
  if (typeof input.contentsBase64 === 'string') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(input.contentsBase64.replace(/\s/g, ''))) throw new Error(`${where}: contentsBase64 is not valid base64`);
    return Buffer.from(input.contentsBase64, 'base64');
  }
  if (typeof input.contents === 'string') return Buffer.from(input.contents, 'utf8');
  throw new Error(`${where}: set contents (UTF-8 text) or contentsBase64`);
}

/** "v1" → "v2", "3" → "4", "beta" → "beta.1". */
export function nextVersion(version: string): string {
  const m = /^(.*?)(\d+)$/.exec(version);
  return m ? `${m[1]}${BigInt(m[2]!) + 1n}` : `${version}.1`;
}

export class ObjectStore {
  private readonly objects = new Map<string, StoredObject>();

  static fromFile(path: string): ObjectStore {
    let doc: unknown;
    try {
      doc = parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`cannot read store file ${path}: ${(err as Error).message}`, { cause: err });
    }
    const list = (doc as { objects?: unknown } | null)?.objects;
    if (!Array.isArray(list)) throw new Error(`store file ${path}: expected a top-level "objects:" list`);
    return ObjectStore.fromList(list as ObjectInput[], `store file ${path}`);
  }

  static fromList(list: readonly ObjectInput[], source = 'store'): ObjectStore {
    const store = new ObjectStore();
    list.forEach((entry, i) => {
      const where = `${source}, objects[${i}]`;
      if (!entry || typeof entry.name !== 'string' || entry.name === '') throw new Error(`${where}: name is required`);
      if (store.objects.has(entry.name)) throw new Error(`${where}: object ${JSON.stringify(entry.name)} appears twice`);
      if (entry.version !== undefined && typeof entry.version !== 'string' && typeof entry.version !== 'number') {
        throw new Error(`${where}: version must be a string`);
      }
      store.objects.set(entry.name, { name: entry.name, version: String(entry.version ?? '1'), contents: decode(entry, where) });
    });
    return store;
  }

  get(name: string): StoredObject | undefined {
    return this.objects.get(name);
  }

  /** Creates or replaces an object; without `version` the version advances. */
  put(input: ObjectInput): StoredObject {
    const existing = this.objects.get(input.name);
    const version = input.version !== undefined ? String(input.version) : existing ? nextVersion(existing.version) : '1';
    const obj = { name: input.name, version, contents: decode(input, `object ${JSON.stringify(input.name)}`) };
    this.objects.set(input.name, obj);
    return obj;
  }

  delete(name: string): boolean {
    return this.objects.delete(name);
  }

  list(): Array<{ name: string; version: string }> {
    return [...this.objects.values()].map((o) => ({ name: o.name, version: o.version }));
  }
}
