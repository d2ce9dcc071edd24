/**
 * Memory and journal size over a 60-minute session at 10 Hz telemetry (virtual time, real journal):
 * runs memory-child.ts in fresh processes, once with --expose-gc (RSS sampled after a forced GC:
 * what is really retained) and once without (what the process actually holds, GC as it comes).
 * Growth is measured from the end of the first session minute (start-up and JIT warm-up done) to
 * the end; growth from the session start is reported beside it. Journal bytes per minute, with the
 * bytes of each record type.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MemoryResult } from './memory-child.js';
import { type BenchOptions, type Figures, say } from './lib.js';

const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MB = 1024 * 1024;

function runChild(exposeGc: boolean, quick: boolean): Promise<MemoryResult> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', ...(exposeGc ? ['--expose-gc'] : []), CHILD, ...(quick ? ['--quick'] : [])];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.on('close', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`memory child exited ${code}: ${err.trim()}`));
      else resolve(JSON.parse(last) as MemoryResult);
    });
  });
}

function growth(r: MemoryResult): { fromWarm: number; fromStart: number; heapFromWarm: number; peak: number } {
  const first = r.samples[0]!;
  const warm = r.samples[1] ?? first;
  const last = r.samples.at(-1)!;
  return {
    fromWarm: last.rss - warm.rss,
    fromStart: last.rss - first.rss,
    heapFromWarm: last.heapUsed - warm.heapUsed,
    peak: Math.max(...r.samples.map((s) => s.rss)),
  };
}

const mb = (b: number) => `${b >= 0 ? '+' : ''}${(b / MB).toFixed(2)} MB`;

export async function memoryBench(figures: Figures, options: BenchOptions): Promise<void> {
  say('\n== Memory and journal over a 60-minute session at 10 Hz telemetry (virtual time, real journal) ==');
  const withGc = await runChild(true, options.quick);
  const withoutGc = await runChild(false, options.quick);
  for (const r of [withGc, withoutGc]) {
    if (r.finalState !== 'completed') throw new Error(`the measured session ended ${r.finalState}`);
  }
  const g = growth(withGc);
  const n = growth(withoutGc);
  say(`  ${withGc.minutes} session minutes, ${withGc.telemetryLines} TEL lines (${(withGc.telemetryLines / (withGc.minutes * 60)).toFixed(1)}/s over 2 channels); wall time ${(withGc.wallMs / 1000).toFixed(1)} s and ${(withoutGc.wallMs / 1000).toFixed(1)} s`);
  say(`  RSS by minute (forced GC): ${withGc.samples.filter((_, i) => i % Math.max(1, Math.round(withGc.minutes / 6)) === 0).map((s) => `${s.minute}:${(s.rss / MB).toFixed(1)}`).join(' ')} MB`);
  figures.add({
    section: 'Memory',
    name: `RSS growth over a ${withGc.minutes}-minute session, minute 1 -> end, forced GC before each sample`,
    value: `${mb(g.fromWarm)} (heap used ${mb(g.heapFromWarm)})`,
    reference: `from the session start: ${mb(g.fromStart)}; without forced GC (separate run): ${mb(n.fromWarm)} from minute 1, ${mb(n.fromStart)} from the start, peak RSS ${(n.peak / MB).toFixed(1)} MB`,
    goal: '< 5 MB (retained, i.e. after a forced GC)',
    met: g.fromWarm < 5 * MB,
  });
  const perMin = withGc.journalBytes / withGc.minutes;
  const types = Object.entries(withGc.bytesByType).sort((a, b) => b[1].bytes - a[1].bytes);
  const breakdown = types.map(([t, v]) => `${t} ${(v.bytes / withGc.minutes / 1024).toFixed(2)} KB/min (${v.records} records, ${((v.bytes / withGc.journalBytes) * 100).toFixed(0)}%)`).join('; ');
  say(`  journal by record type: ${breakdown}`);
  figures.add({
    section: 'Memory',
    name: 'journal bytes per session minute',
    value: `${(perMin / 1024).toFixed(2)} KB/min (${withGc.journalRecords} records, ${(withGc.journalBytes / 1024).toFixed(1)} KB in all)`,
    reference: `largest record types: ${types
      .slice(0, 3)
      .map(([t, v]) => `${t} ${(v.bytes / withGc.minutes / 1024).toFixed(2)} KB/min`)
      .join(', ')}`,
    goal: '< 50 KB per minute',
    met: perMin < 50 * 1024,
  });
}
