import { finished } from 'node:stream/promises';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { MAX_LINE_BYTES, decodeDeviceLine, encode, frame } from '../../../firmware-protocol/index.js';
import { LineReader, MAX_BUFFERED_BYTES, type ReadRecord } from '../../../src/device/line-reader.js';
import type { TransportInput } from '../../../src/device/transport.js';

/** Write every chunk (waiting for each to be processed), end, and collect every record. */
async function readAll(chunks: readonly (Buffer | string)[], reader = new LineReader()): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  reader.on('data', (r: ReadRecord) => out.push(r));
  for (const c of chunks) await write(reader, typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  reader.end();
  await finished(reader);
  return out;
}

function write(reader: LineReader, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => reader.write(chunk, (err) => (err ? reject(err) : resolve())));
}

const line = (text: string): ReadRecord => ({ kind: 'line', text });
const overflow = (droppedBytes: number): ReadRecord => ({ kind: 'overflow', code: 'TOO_LONG', droppedBytes });

const OK_HB = encode({ type: 'ok', seq: 7, verb: 'HB', args: {} });
const BOOT = encode({ type: 'event', event: 'BOOT', args: { boot: '0A1B2C3D', proto: 1 } });

describe('LineReader', () => {
  it('splits lines on \\n and passes a trailing \\r through', async () => {
    const records = await readAll([`${OK_HB}\n${BOOT}\r\n\nx\n`]);
    expect(records).toEqual([line(OK_HB), line(`${BOOT}\r`), line(''), line('x')]);
    const decoded = records.flatMap((r) => (r.kind === 'line' && r.text.length > 1 ? [decodeDeviceLine(r.text)] : []));
    expect(decoded.map((d) => d.ok)).toEqual([true, true]);
  });

  it('gives the same records however the input is chunked (every split point, and byte by byte)', async () => {
    const input = Buffer.from(
      [OK_HB, `${BOOT}\r`, '', 'a'.repeat(MAX_LINE_BYTES), 'b'.repeat(MAX_LINE_BYTES + 1), `${'c'.repeat(MAX_LINE_BYTES)}\r`, 'tail ok', ''].join('\n'),
      'latin1',
    );
    const whole = await readAll([input]);
    expect(whole).toEqual([
      line(OK_HB),
      line(`${BOOT}\r`),
      line(''),
      line('a'.repeat(MAX_LINE_BYTES)),
      overflow(MAX_LINE_BYTES + 1),
      line(`${'c'.repeat(MAX_LINE_BYTES)}\r`),
      line('tail ok'),
    ]);
    for (let i = 0; i <= input.length; i++) {
      expect(await readAll([input.subarray(0, i), input.subarray(i)]), `split at ${i}`).toEqual(whole);
    }
    const bytes = Array.from({ length: input.length }, (_, i) => input.subarray(i, i + 1));
    expect(await readAll(bytes)).toEqual(whole);
  });

  it('splits a CRLF pair across chunks', async () => {
    expect(await readAll([`${OK_HB}\r`, '\n', `${BOOT}\r`, '\n'])).toEqual([line(`${OK_HB}\r`), line(`${BOOT}\r`)]);
  });

  it(`H15 accepts exactly ${MAX_LINE_BYTES} bytes and refuses ${MAX_LINE_BYTES + 1}`, async () => {
    const max = 'x'.repeat(MAX_LINE_BYTES);
    expect(await readAll([`${max}\n`])).toEqual([line(max)]);
    expect(await readAll([`${max}\r\n`])).toEqual([line(`${max}\r`)]);
    expect(await readAll([`${max}y\nnext\n`])).toEqual([overflow(MAX_LINE_BYTES + 1), line('next')]);
    // A `\r` is tolerated only as the last byte: two of them make the line one byte too long.
    expect(await readAll([`${max}\r\r\n`])).toEqual([overflow(MAX_LINE_BYTES + 2)]);
    expect(await readAll([`${max}\ry\n`])).toEqual([overflow(MAX_LINE_BYTES + 2)]);
  });

  it('reports each over-long line once and resumes at the next newline', async () => {
    const reader = new LineReader();
    const records = await readAll(['y'.repeat(1000), 'y'.repeat(1000), `\n${OK_HB}\n`, `${'z'.repeat(300)}\n${'w'.repeat(400)}\n${BOOT}\n`], reader);
    expect(records).toEqual([overflow(2000), line(OK_HB), overflow(300), overflow(400), line(BOOT)]);
    expect(reader.overflows).toBe(3);
    expect(reader.linesRead).toBe(2);
    expect(reader.droppedBytes).toBe(2700);
  });

  it('H15 holds at most the cap while 10 MB arrive without a newline, then reads the next line', async () => {
    const reader = new LineReader();
    const out: ReadRecord[] = [];
    reader.on('data', (r: ReadRecord) => out.push(r));
    const total = 10 * 1024 * 1024;
    const chunk = Buffer.alloc(65_537, 0x41); // an odd size, so the cap falls inside a chunk
    let sent = 0;
    let peak = 0;
    while (sent < total) {
      const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
      await write(reader, piece);
      sent += piece.length;
      peak = Math.max(peak, reader.bufferedBytes);
    }
    expect(peak).toBeLessThanOrEqual(MAX_BUFFERED_BYTES);
    expect(out).toEqual([]); // nothing yet: the over-long line is reported when it ends
    await write(reader, Buffer.from(`\n${OK_HB}\n`, 'latin1'));
    expect(reader.bufferedBytes).toBe(0);
    reader.end();
    await finished(reader);
    expect(out).toEqual([overflow(total), line(OK_HB)]);
  });

  it('holds at most the cap when the 10 MB come as one chunk', async () => {
    const reader = new LineReader();
    const out: ReadRecord[] = [];
    reader.on('data', (r: ReadRecord) => out.push(r));
    await write(reader, Buffer.alloc(10 * 1024 * 1024, 0xff));
    expect(reader.bufferedBytes).toBeLessThanOrEqual(MAX_BUFFERED_BYTES);
    reader.end(Buffer.from(`\n${BOOT}\n`, 'latin1'));
    await finished(reader);
    expect(out).toEqual([overflow(10 * 1024 * 1024), line(BOOT)]);
  });

  it('maps every byte value to one code unit (latin1) so the codec sees binary bytes as they are', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, b) => b).filter((b) => b !== 0x0a && b !== 0x0d));
    const records = await readAll([Buffer.concat([all.subarray(0, 100), Buffer.from('\n'), all.subarray(100), Buffer.from('\n')])]);
    expect(records).toHaveLength(2);
    const texts = records.map((r) => (r.kind === 'line' ? r.text : ''));
    expect(Buffer.from(texts.join(''), 'latin1')).toEqual(all);
    const bad = decodeDeviceLine(texts[1]!);
    expect(bad.ok ? 'decoded' : bad.error.code).toBe('BAD_FRAME');
    // A UTF-8 sequence is two bytes, so two code units, not one character.
    expect(await readAll([Buffer.from('µ\n', 'utf8')])).toEqual([line('\u00c2\u00b5')]);
  });

  it('discards and counts an unterminated tail at the end of the input, whatever its length', async () => {
    const short = new LineReader();
    expect(await readAll([`${OK_HB}\npartial`], short)).toEqual([line(OK_HB)]);
    expect([short.unterminatedBytes, short.droppedBytes, short.linesRead]).toEqual([7, 7, 1]);
    const long = new LineReader();
    expect(await readAll([`${OK_HB}\n`, 'q'.repeat(5000)], long)).toEqual([line(OK_HB)]);
    expect([long.unterminatedBytes, long.overflows]).toEqual([5000, 0]);
    const none = new LineReader();
    expect(await readAll([`${OK_HB}\n`], none)).toEqual([line(OK_HB)]);
    expect(none.unterminatedBytes).toBe(0);
  });

  it('honours a smaller cap and rejects a nonsensical one', async () => {
    expect(await readAll(['abcd\nabcde\nabcd\r\n'], new LineReader({ maxLineBytes: 4 }))).toEqual([line('abcd'), overflow(5), line('abcd\r')]);
    expect(() => new LineReader({ maxLineBytes: 0 })).toThrow(RangeError);
  });

  it('emits records a transport can forward as they are', () => {
    expectTypeOf<ReadRecord>().toExtend<TransportInput>();
  });

  it('works as a pipe target and releases its parser on destroy', async () => {
    const reader = new LineReader();
    const out: ReadRecord[] = [];
    reader.on('data', (r: ReadRecord) => out.push(r));
    await write(reader, Buffer.from(`${frame('1 OK HB')}\n`, 'latin1'));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(out).toEqual([line(frame('1 OK HB'))]);
    reader.destroy();
    await expect(finished(reader)).rejects.toThrow();
    expect(reader.destroyed).toBe(true);
  });
});
