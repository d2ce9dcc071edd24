// Writes the committed seed corpora of the C fuzz targets in firmware-protocol/c/fuzz/corpus (run
// after the vectors change: `npx tsx test/firmware/make-fuzz-corpus.ts`). Seeds for fuzz_decode: every conformance
// vector's line (PROTOCOL.md §14) with its LF, one file each. Seeds for fuzz_device: short sessions
// built from the request vectors (HELLO first, then requests, with clock steps and faults between
// them, in fuzz_device.c's input format).
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const here = new URL('../../firmware-protocol/c/fuzz/', import.meta.url);
const vectorsDir = new URL('../../firmware-protocol/vectors/', import.meta.url);
const lines = readdirSync(vectorsDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .flatMap((f) => (JSON.parse(readFileSync(new URL(f, vectorsDir), 'utf8')) as { vectors: { line: string; direction: string }[] }).vectors);

function write(dir: string, bytes: Buffer): void {
  const name = createHash('sha1').update(bytes).digest('hex');
  writeFileSync(new URL(`${dir}/${name}`, here), bytes);
}

for (const dir of ['corpus/decode', 'corpus/device']) {
  rmSync(new URL(dir, here), { recursive: true, force: true });
  mkdirSync(new URL(dir, here), { recursive: true });
}
for (const v of lines) write('corpus/decode', Buffer.from(`${v.line}\n`, 'latin1'));

const hello = Buffer.from('0 HELLO vmin=1 vmax=1 *11DF\n', 'latin1');
const requests = lines.filter((v) => v.direction === 'host-to-device').map((v) => Buffer.from(`${v.line}\n`, 'latin1'));
const tick = (n: number) => Buffer.from([0xfe, n]);
const fault = (n: number) => Buffer.from([0xfd, n & 0xff]);
for (let i = 0; i < requests.length; i++) {
  const a = requests[i]!;
  const b = requests[(i * 7 + 3) % requests.length]!;
  const c = requests[(i * 13 + 5) % requests.length]!;
  write('corpus/device', Buffer.concat([Buffer.from([i & 1]), hello, a, tick(3), b, tick(20), c, i % 5 === 0 ? fault(i) : tick(1), a, tick(200)]));
}
console.log(`wrote ${lines.length} decode seeds and ${requests.length} device seeds`);
