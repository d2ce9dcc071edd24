// Receive line assembly: any chunking, the 256-byte cap, latin1 bytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode, frame } from '../../../firmware-protocol/index.js';
import { LineAssembler } from '../../../src/simulator/lines.js';
import { makeRig } from './rig.js';

function collect(a: LineAssembler, chunks: (string | Uint8Array)[]): string[] {
  const out: string[] = [];
  for (const c of chunks) a.push(c, { line: (l) => out.push(`L:${l}`), overflow: (h) => out.push(`O:${h.length}`) });
  return out;
}

describe('LineAssembler', () => {
  it('accepts 256 bytes, and 256 bytes plus a final \\r; refuses 257', () => {
    const a = new LineAssembler(256);
    const x256 = 'a'.repeat(256);
    expect(collect(a, [`${x256}\n`])).toEqual([`L:${x256}`]);
    expect(collect(a, [`${x256}\r\n`])).toEqual([`L:${x256}\r`]);
    expect(collect(a, [`${x256}b\n`])).toEqual(['O:256']);
    expect(collect(a, [`${x256}\rb\n`])).toEqual(['O:256']);
    expect(collect(a, [x256, '\r', '\n'])).toEqual([`L:${x256}\r`]);
    expect(collect(a, [x256, '\r', 'x', '\n', 'next\n'])).toEqual(['O:256', 'L:next']);
  });

  it('reports an over-long line once, when it overflows, and resumes after its newline', () => {
    const a = new LineAssembler(256);
    const seen: string[] = [];
    const sink = { line: (l: string) => seen.push(`L:${l}`), overflow: (h: string) => seen.push(`O:${h.slice(0, 3)}:${h.length}`) };
    a.push('abc'.repeat(100), sink);
    expect(seen).toEqual(['O:abc:256']);
    a.push('x'.repeat(10_000), sink);
    expect(seen).toHaveLength(1);
    a.push('tail\nok\n', sink);
    expect(seen).toEqual(['O:abc:256', 'L:ok']);
  });

  it('any chunking of a byte stream gives the same lines and overflows', () => {
    const latin1 = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
    const piece = fc.oneof(fc.string({ unit: latin1, maxLength: 40 }), fc.constant('\n'), fc.constant('\r\n'), fc.constant('y'.repeat(300)));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 20 }), (parts, cuts) => {
        const text = parts.join('');
        const whole = collect(new LineAssembler(256), [text]);
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((x, y) => x - y);
        const chunks: Uint8Array[] = [];
        let from = 0;
        for (const p of [...points, text.length]) {
          chunks.push(Uint8Array.from(text.slice(from, p), (ch) => ch.charCodeAt(0)));
          from = p;
        }
        expect(collect(new LineAssembler(256), chunks)).toEqual(whole);
        expect(collect(new LineAssembler(256), [...text])).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the simulator receive path', () => {
  it('10 MB without a newline never grows the buffer beyond 256 bytes; the next line is processed', () => {
    const r = makeRig();
    const chunk = new Uint8Array(64 * 1024).fill(0x5a);
    let max = 0;
    for (let sent = 0; sent < 10 * 1024 * 1024; sent += chunk.length) {
      r.sim.receive(chunk);
      max = Math.max(max, r.sim.snapshot().rxBufferedBytes);
    }
    r.sim.receive('Z'.repeat(1_000_000)); // as one string, too
    max = Math.max(max, r.sim.snapshot().rxBufferedBytes);
    expect(max).toBeLessThanOrEqual(256);
    expect(r.sim.snapshot().counters.rejectedByCode.TOO_LONG).toBe(1);
    expect(r.decoded()).toEqual([
      expect.objectContaining({ event: 'BOOT' }),
      { type: 'err', seq: null, args: { code: 'TOO_LONG' } },
    ]);
    const status = encode({ type: 'request', seq: 77, verb: 'STATUS', args: {} });
    const replies = r.raw(`garbage-tail\n${status}\n`);
    expect(replies).toMatchObject([{ type: 'ok', seq: 77, verb: 'STATUS' }]);
    expect(r.sim.snapshot().rxBufferedBytes).toBe(0);
  });

  it('a frame split into single bytes, or many frames in one chunk, are each processed', () => {
    const r = makeRig();
    const lines = Array.from({ length: 5 }, (_, i) => encode({ type: 'request', seq: i, verb: 'STATUS', args: {} }));
    for (const ch of `${lines[0]}\n`) r.sim.receive(ch);
    r.sim.receive(new TextEncoder().encode(lines.slice(1).map((l) => `${l}\r\n`).join('')));
    const replies = r.decoded().filter((m) => m.type === 'ok');
    expect(replies.map((m) => (m.type === 'ok' ? m.seq : -1))).toEqual([0, 1, 2, 3, 4]);
  });

  it('a 256-byte line reaches the decoder; 257 bytes are TOO_LONG', () => {
    const r = makeRig();
    const line = frame(`3 FROB${'X'.repeat(256 - 6 - 6)}`); // body + ' *' + 4 hex digits = 256
    expect(line.length).toBe(256);
    expect(r.raw(`${line}\n`)).toMatchObject([{ type: 'err', seq: 3, args: { code: 'UNKNOWN_VERB' } }]);
    expect(r.raw(`${line}\r\n`)).toMatchObject([{ type: 'err', seq: 3, args: { code: 'UNKNOWN_VERB' } }]);
    expect(r.raw(`${line}X\n`)).toEqual([{ type: 'err', seq: null, args: { code: 'TOO_LONG' } }]);
  });
});
