/**
 * A simulated container's log, as the kubelet keeps it for `kubectl logs`: lines with the
 * time each was written, read whole or in part (tailLines, since, limitBytes, timestamps as
 * RFC 3339 with nanoseconds, as the kubelet prefixes them) and followed while the container
 * runs. Bounded: the oldest lines go first beyond `maxLines`.
 */
import type { ContainerLogReader, LogOptions } from '../apiserver/pod-log.js';

interface Line {
  ms: number;
  text: string;
}

const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
const render = (l: Line, timestamps: boolean | undefined) => `${timestamps ? `${stamp(l.ms)} ` : ''}${l.text}\n`;

export class ContainerLog implements ContainerLogReader {
  private readonly lines: Line[] = [];
  private readonly followers = new Set<{ timestamps: boolean | undefined; onText: (text: string) => void; onEnd: () => void }>();
  private ended = false;

  constructor(private readonly maxLines = 10_000) {}

  /** Writes lines (the container's stdout). */
  write(...texts: string[]): void {
    if (this.ended) return;
    for (const text of texts) {
      const line = { ms: Date.now(), text };
      this.lines.push(line);
      for (const f of this.followers) f.onText(render(line, f.timestamps));
    }
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
  }

  read(options: LogOptions): string {
    let lines = options.sinceMs !== undefined ? this.lines.filter((l) => l.ms >= options.sinceMs!) : this.lines;
    if (options.tailLines !== undefined) lines = options.tailLines === 0 ? [] : lines.slice(-options.tailLines);
    const text = lines.map((l) => render(l, options.timestamps)).join('');
    return options.limitBytes !== undefined ? Buffer.from(text).subarray(0, options.limitBytes).toString('utf8') : text;
  }

  follow(options: Pick<LogOptions, 'timestamps'>, onText: (text: string) => void, onEnd: () => void): () => void {
    if (this.ended) {
      onEnd();
      return () => undefined;
    }
    const f = { timestamps: options.timestamps, onText, onEnd };
    this.followers.add(f);
    return () => this.followers.delete(f);
  }

  /** The container stopped: followers' streams end. */
  end(): void {
    this.ended = true;
    for (const f of [...this.followers]) f.onEnd();
    this.followers.clear();
  }
}
