// Property-based tests of the journal reader: it never throws, whatever it is given, and it
// notices every change to a valid journal that the hash chain can see.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type JournalReadResult, openJournal, readJournal } from '../../../src/session/journal.js';
import { EXAMPLES, MemoryFs, ManualClock, SESSION_ID } from '../../fixtures/journals/helpers.js';

/** A valid journal of a few records of every kind, as its lines. */
function validLines(): string[] {
  const memory = new MemoryFs();
  const clock = new ManualClock();
  const j = openJournal({ dataDir: '/d', sessionId: SESSION_ID, clock, fs: memory });
  for (const [type, data] of Object.entries(EXAMPLES)) {
    clock.advance(137);
    j.append(type, data);
  }
  j.close();
  return memory.text(j.path).split('\n').slice(0, -1);
}

const LINES = validLines();
const VALID = Buffer.from(LINES.map((l) => `${l}\n`).join(''));

function safeRead(input: Uint8Array | string): JournalReadResult {
  let result: JournalReadResult | undefined;
  expect(() => (result = readJournal({ text: input }))).not.toThrow();
  expect(result!.problems.filter((p) => p.kind === 'internal')).toEqual([]);
  return result!;
}

describe('readJournal under fuzzing', () => {
  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        safeRead(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary text and JSON-ish lines', () => {
    const jsonish = fc.oneof(
      fc.json(),
      fc.string(),
      fc.constantFrom('{}', '[]', 'null', '{"n":0}', '{"n":"0","prev":1}', '{"prev":"x","n":1e400}', '{"__proto__":{"n":1}}'),
      fc.record({ n: fc.integer({ min: -2, max: 20 }), prev: fc.constantFrom('', 'x', LINES[0]!.slice(0, 64)), type: fc.string(), data: fc.anything() }).map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(fc.array(jsonish, { maxLength: 20 }), fc.boolean(), (lines, newline) => {
        safeRead(lines.join('\n') + (newline ? '\n' : ''));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on a valid journal with random bytes changed, and notices every change before the last line', () => {
    const lastLineStart = VALID.length - LINES[LINES.length - 1]!.length - 1;
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat({ max: VALID.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 5 }),
        (changes) => {
          const bytes = Buffer.from(VALID);
          for (const c of changes) bytes[c.at] = c.value;
          const read = safeRead(bytes);
          // Compare the bytes as they end up: two changes at one offset can restore the original
          // byte (seed -562578045: 0 then 34 at offset 1), which is no change at all.
          const changedEarly = changes.some((c) => c.at < lastLineStart && bytes[c.at] !== VALID[c.at]);
          if (changedEarly) expect(read.ok).toBe(false);
        },
      ),
      { numRuns: 1000, examples: [[[{ at: 1, value: 0 }, { at: 1, value: 34 }]]] },
    );
  });

  it('notices any line deleted, duplicated or moved, except dropping lines off the end', () => {
    const indices = fc.nat({ max: LINES.length - 1 });
    const mutation = fc.oneof(
      indices.map((i) => ({ kind: 'delete' as const, i, j: i })),
      fc.tuple(indices, fc.nat({ max: LINES.length })).map(([i, j]) => ({ kind: 'duplicate' as const, i, j })),
      fc.tuple(indices, indices).map(([i, j]) => ({ kind: 'move' as const, i, j })),
    );
    fc.assert(
      fc.property(mutation, ({ kind, i, j }) => {
        const lines = [...LINES];
        if (kind === 'delete') lines.splice(i, 1);
        else if (kind === 'duplicate') lines.splice(j, 0, LINES[i]!);
        else lines.splice(j, 0, ...lines.splice(i, 1));
        const read = safeRead(lines.map((l) => `${l}\n`).join(''));
        const unchanged = lines.join('\n') === LINES.join('\n');
        const isPrefix = LINES.slice(0, lines.length).join('\n') === lines.join('\n');
        if (unchanged || isPrefix) expect(read.ok).toBe(true);
        else {
          expect(read.ok).toBe(false);
          expect(read.chainIntact).toBe(false);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('reads any truncation of a valid journal as intact, with at most a torn last line', () => {
    fc.assert(
      fc.property(fc.nat({ max: VALID.length }), (cut) => {
        const read = safeRead(VALID.subarray(0, cut));
        expect(read.ok).toBe(true);
        const complete = VALID.subarray(0, cut).toString('utf8').split('\n').length - 1;
        expect(read.records.length).toBeGreaterThanOrEqual(complete);
        expect(read.records.length).toBeLessThanOrEqual(complete + 1);
        expect(read.truncatedTail === null).toBe(cut === 0 || VALID[cut - 1] === 0x0a);
      }),
      { numRuns: 500 },
    );
  });
});
