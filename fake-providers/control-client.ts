/**
 * A typed client of the control API (control-api.ts): the fake provider's, or the fault
 * proxy's in front of an external provider (which has no object routes). What scenarios,
 * tests and scripts call rather than spelling the routes with fetch; a refused request
 * throws with the route, the HTTP status and the API's own message.
 */
import type { Fault } from './faults.js';

export interface ControlState {
  requests: number;
  inflight: number;
  maxInflight: number;
  faults: Fault[];
  /** The fake provider's objects (absent on the fault proxy). */
  objects?: Array<{ name: string; version: string }>;
  /** The fake provider's last Mount request, secrets and tokens redacted. */
  lastRequest?: { attributes: Record<string, unknown>; secrets: Record<string, string> | null; permission: string; currentObjectVersion: Array<{ id: string; version: string }> } | null;
  /** The fault proxy's upstream socket. */
  upstream?: string;
}

export type ObjectBody = { contents: string; version?: string } | { contentsBase64: string; version?: string };

export class ControlClient {
  constructor(readonly url: string) {}

  private async call(method: string, path: string, body?: unknown): Promise<Response> {
    const res = await fetch(`${this.url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    if (!res.ok) {
      const text = await res.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON: the text as it came
      }
      throw new Error(`${method} ${path} on ${this.url}: HTTP ${res.status} ${message}`);
    }
    return res;
  }

  async state(): Promise<ControlState> {
    return (await (await this.call('GET', '/state')).json()) as ControlState;
  }

  /** Resets the peak of concurrent Mount calls to the current count; returns it. */
  async resetMaxInflight(): Promise<number> {
    return ((await (await this.call('DELETE', '/state/max-inflight')).json()) as { maxInflight: number }).maxInflight;
  }

  /** Sets an object (the fake provider only); returns its version. */
  async putObject(name: string, body: ObjectBody): Promise<string> {
    return ((await (await this.call('PUT', `/objects/${encodeURIComponent(name)}`, body)).json()) as { version: string }).version;
  }

  async deleteObject(name: string): Promise<void> {
    await this.call('DELETE', `/objects/${encodeURIComponent(name)}`);
  }

  /** Sets the one active fault (replacing any); returns it as the API stored it. */
  async setFault(fault: Fault): Promise<Fault> {
    return (await (await this.call('PUT', '/faults', fault)).json()) as Fault;
  }

  /** Clears the fault (and answers the calls a `hold` kept). */
  async clearFault(): Promise<void> {
    await this.call('DELETE', '/faults');
  }
}
