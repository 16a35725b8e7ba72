/** The end of a component's log, for error messages: "see FILE; last lines: ...". */
import { readFile } from 'node:fs/promises';

export async function logTail(file: string, lines = 15): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const tail = text.trimEnd().split('\n').slice(-lines).join('\n');
  return tail ? `see ${file}; last lines:\n${tail}` : `see ${file} (empty)`;
}
