/**
 * Codec throughput: device lines per second decoded AND validated (decodeDeviceLine: framing, CRC,
 * grammar, zod schema of the arguments) on a realistic mix, against @serialport/parser-readline
 * only splitting the same bytes into lines with no decoding (the cheapest thing a host could do),
 * and the whole host input path (the capped LineReader, i.e. guard + ReadlineParser, then decode).
 *
 * The mix is what a 4-channel session sends: TEL at 10 Hz per channel (40/s), OK HB (4/s) and the
 * odd OK AMP / OK STATUS: about 90% TEL. CPU share of one core at the full line rate = (lines per
 * second that 115200 baud can carry of this mix) / (lines per second decoded). Several rounds,
 * after a warm-up; medians reported with the spread.
 */
import { ReadlineParser } from '@serialport/parser-readline';
import { decodeDeviceLine, encode, type DeviceToHost } from '../../firmware-protocol/index.js';
import { LineReader } from '../../src/device/line-reader.js';
import { BYTES_PER_S, type BenchOptions, type Figures, int, pct, say, summarize } from './lib.js';

function mix(n: number): string[] {
  const lines: string[] = [];
  let q = 0;
  for (let k = 0; k < n; k++) {
    const r = k % 50;
    let m: DeviceToHost;
    if (r < 45) {
      const ch = (k % 4) + 1;
      const amp = 4000 + ((k * 37) % 500);
      q += 1000;
      m = { type: 'event', event: 'TEL', args: { ch, amp, i: amp - (k % 9), z: 1470 + (k % 21), q } };
    } else if (r < 49) {
      m = { type: 'ok', seq: k % 65536, verb: 'HB', args: {} };
    } else if (k % 100 < 50) {
      m = { type: 'ok', seq: k % 65536, verb: 'AMP', args: { ch: 1, amp: 4500 } };
    } else {
      m = { type: 'ok', seq: k % 65536, verb: 'STATUS', args: { latched: false, boot: '5E1F09A2', up: 40003 + k, s1: 'ON', s2: 'ON', s3: 'OFF', s4: 'OFF' } };
    }
    lines.push(encode(m));
  }
  return lines;
}

/** Lines per second of `run` over `lines` lines, best of the inner loop. */
function rate(lines: number, run: () => void): number {
  const t0 = performance.now();
  run();
  const dt = (performance.now() - t0) / 1000;
  return lines / dt;
}

export function codecBench(figures: Figures, options: BenchOptions): void {
  say('\n== Codec throughput ==');
  const lines = mix(options.quick ? 20_000 : 100_000);
  const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'latin1');
  const meanLineBytes = bytes.length / lines.length;
  const lineRate = BYTES_PER_S / meanLineBytes;
  const chunk = 4096; // what a USB-serial read typically hands over at once
  const rounds = options.quick ? 3 : 9;

  let sink = 0;
  const decodeOnly = () => {
    for (const l of lines) if (decodeDeviceLine(l).ok) sink++;
  };
  const splitOnly = () => {
    const p = new ReadlineParser({ delimiter: '\n', encoding: 'latin1' });
    p.on('data', () => sink++);
    for (let i = 0; i < bytes.length; i += chunk) p.write(bytes.subarray(i, i + chunk));
  };
  const wholePath = () => {
    const r = new LineReader();
    r.on('data', (rec: { kind: string; text?: string }) => {
      if (rec.kind === 'line' && decodeDeviceLine(rec.text!).ok) sink++;
    });
    for (let i = 0; i < bytes.length; i += chunk) r.write(bytes.subarray(i, i + chunk));
  };
  // warm-up: let the JIT settle on all three
  for (let i = 0; i < 2; i++) {
    decodeOnly();
    splitOnly();
    wholePath();
  }
  const dec: number[] = [];
  const split: number[] = [];
  const whole: number[] = [];
  for (let r = 0; r < rounds; r++) {
    dec.push(rate(lines.length, decodeOnly));
    split.push(rate(lines.length, splitOnly));
    whole.push(rate(lines.length, wholePath));
  }
  if (sink === 0) throw new Error('nothing decoded');
  const sDec = summarize(dec);
  const sSplit = summarize(split);
  const sWhole = summarize(whole);
  const spread = (s: ReturnType<typeof summarize>) => `${int(s.min)}..${int(s.max)}`;
  say(`  mix: ${int(lines.length)} lines, ${(meanLineBytes - 1).toFixed(1)} bytes a line on average (+ \\n); 115200 baud carries ${lineRate.toFixed(1)} such lines/s`);
  figures.add({
    section: 'Codec',
    name: 'decodeDeviceLine (decode + validate), realistic TEL/OK mix',
    value: `${int(sDec.p50)} lines/s (median of ${rounds}; range ${spread(sDec)})`,
    reference: `@serialport/parser-readline splitting the same bytes, no decoding: ${int(sSplit.p50)} lines/s (range ${spread(sSplit)}); decoding costs ${(sSplit.p50 / sDec.p50).toFixed(2)}x the split`,
  });
  const shareDecode = lineRate / sDec.p50;
  const shareWhole = lineRate / sWhole.p50;
  figures.add({
    section: 'Codec',
    name: 'CPU share of one core at the full 115200-baud line rate (capped LineReader + decode, the whole input path)',
    value: `${pct(shareWhole)} (${int(sWhole.p50)} lines/s through the whole path)`,
    reference: `line rate ${lineRate.toFixed(1)} lines/s; decode alone ${pct(shareDecode)}; split alone ${pct(lineRate / sSplit.p50)}`,
    goal: '< 0.5% of a core',
    met: shareWhole < 0.005,
  });
}
