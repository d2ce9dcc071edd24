/** Split a child process's stdout into lines as they arrive (the last, unterminated piece waits). */
import type { Readable } from 'node:stream';

export function onLines(stream: Readable | null, line: (text: string, atMs: number) => void): void {
  let partial = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    const at = performance.now();
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      line(partial.slice(0, nl), at);
      partial = partial.slice(nl + 1);
    }
  });
}
