/**
 * The tail a managed process keeps of each stream: always the last `keep` characters of
 * everything written, whatever the chunk sizes, read at any moment.
 */
import { describe, expect, it } from 'vitest';
import { StreamTail } from '../../harness/managed-process.js';

describe('StreamTail', () => {
  it('holds the last keep characters of everything pushed, read between any two chunks', () => {
    const keep = 100;
    const tail = new StreamTail(keep);
    let all = '';
    for (let i = 0; i < 500; i++) {
      const chunk = `${i}:${'x'.repeat(i % 37)}\n`;
      tail.push(chunk);
      all += chunk;
      if (i % 7 === 0) expect(tail.text()).toBe(all.slice(-keep));
    }
    expect(tail.text()).toBe(all.slice(-keep));
    expect(tail.text()).toHaveLength(keep);
  });

  it('keeps everything while under the limit, and the tail of a single chunk larger than it', () => {
    const tail = new StreamTail(10);
    expect(tail.text()).toBe('');
    tail.push('abc');
    tail.push('def');
    expect(tail.text()).toBe('abcdef');
    tail.push('0123456789ABCDEFGHIJ');
    expect(tail.text()).toBe('ABCDEFGHIJ');
  });
});
