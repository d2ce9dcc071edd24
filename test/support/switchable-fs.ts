/**
 * A node:fs stand-in for the journal that writes real files and can be made to fail (ENOSPC, EIO:
 * a full or broken disk) or to freeze (a killed process writes nothing more), and switched back.
 */
import * as nodeFs from 'node:fs';
import type { JournalFs } from '../../src/session/journal.js';

export class SwitchableFs implements JournalFs {
  mode: 'ok' | 'ENOSPC' | 'EIO' | 'frozen' = 'ok';
  /**
   * Directories on a disk that stays full whatever `mode` says (the journal's own disk, while a
   * fallback elsewhere has room): creating, writing and syncing files there fail with ENOSPC.
   */
  readonly fullPaths: string[] = [];
  readonly #paths = new Map<number, string>();

  mkdirSync(p: string, o: { recursive: true; mode?: number }) {
    return nodeFs.mkdirSync(p, o);
  }
  openSync(p: string, flags: number, mode?: number) {
    if (this.#full(p) && (flags & nodeFs.constants.O_CREAT) !== 0) throw enospc();
    const fd = nodeFs.openSync(p, flags, mode);
    this.#paths.set(fd, p);
    return fd;
  }
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number {
    if (this.mode === 'frozen') return length; // the process is gone: nothing reaches the file
    if (this.#full(this.#paths.get(fd))) throw enospc();
    if (this.mode !== 'ok') throw Object.assign(new Error(`${this.mode}: injected`), { code: this.mode });
    return nodeFs.writeSync(fd, buffer, offset, length);
  }
  fsyncSync(fd: number) {
    if (this.#full(this.#paths.get(fd))) throw enospc();
    if (this.mode === 'ENOSPC' || this.mode === 'EIO') throw Object.assign(new Error(`${this.mode}: injected`), { code: this.mode });
    if (this.mode === 'ok') nodeFs.fsyncSync(fd);
  }
  closeSync(fd: number) {
    this.#paths.delete(fd);
    nodeFs.closeSync(fd);
  }
  #full(p: string | undefined): boolean {
    return p !== undefined && this.fullPaths.some((x) => p.startsWith(x));
  }
}

function enospc(): Error {
  return Object.assign(new Error('ENOSPC: injected'), { code: 'ENOSPC' });
}
