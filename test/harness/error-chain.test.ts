/** describeError: an error's cause chain on one line, as the scenario reports print it. */
import { describe, expect, it } from 'vitest';
import { describeError, withContext } from '../../harness/error-chain.js';

class ConnectTimeoutError extends Error {
  code = 'UND_ERR_CONNECT_TIMEOUT';
  constructor(message: string) {
    super(message);
    this.name = 'ConnectTimeoutError';
  }
}

describe('describeError', () => {
  it('follows cause links and names each with its code', () => {
    const err = new TypeError('fetch failed', { cause: new ConnectTimeoutError('Connect Timeout Error (attempted address: 127.0.0.1:1, timeout: 10000ms)') });
    expect(describeError(err)).toBe('TypeError: fetch failed ← ConnectTimeoutError [UND_ERR_CONNECT_TIMEOUT]: Connect Timeout Error (attempted address: 127.0.0.1:1, timeout: 10000ms)');
  });

  it('shows the errors inside an AggregateError and says a link once', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED ::1:80'), { code: 'ECONNREFUSED' });
    const inner = new TypeError('fetch failed', { cause: new AggregateError([refused, Object.assign(new Error('connect ETIMEDOUT 10.0.0.1:80'), { code: 'ETIMEDOUT' })], 'all failed') });
    const wrapped = new TypeError('fetch failed', { cause: inner });
    expect(describeError(wrapped)).toBe('TypeError: fetch failed ← AggregateError: all failed (Error [ECONNREFUSED]: connect ECONNREFUSED ::1:80; Error [ETIMEDOUT]: connect ETIMEDOUT 10.0.0.1:80)');
  });

  it('ends on a cycle, and takes what is not an Error as text', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(describeError(b)).toBe('b ← Error: a');
    expect(describeError('just text')).toBe('just text');
    expect(describeError(new Error('outer', { cause: 42 }))).toBe('outer ← 42');
  });

  it('withContext says what was being done and keeps the original as cause; the chain is told once', () => {
    const original = new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
    const err = withContext('create Pod ns/p', original);
    expect(err.message).toBe('create Pod ns/p: TypeError: fetch failed ← Error [ECONNRESET]: read ECONNRESET');
    expect(err.cause).toBe(original);
    expect(describeError(err)).toBe(err.message);
  });
});
