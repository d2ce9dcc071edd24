// In-memory CLI streams: commands write here instead of the console.
import { Writable } from 'node:stream';
import type { CliIO } from '../../../src/cli/command.js';

export class MemoryStream extends Writable {
  private chunks: string[] = [];
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    callback();
  }
  get text(): string {
    return this.chunks.join('');
  }
}

export function memoryIO(cwd: string): CliIO & { stdout: MemoryStream; stderr: MemoryStream } {
  return { stdout: new MemoryStream(), stderr: new MemoryStream(), cwd, env: {} };
}
