/**
 * Fuzz campaign (issue 6, §2): random and mutated lines into the host decoder, through the
 * DeviceClient's whole input path (bytes -> capped LineReader -> decode -> counters), and into the
 * simulator's parser (SimulatedStimulator.receive on virtual time). 50,000 inputs per target in
 * CI, 1,000,000 in long mode (EDN_LONG=1, `npm run test:long`).
 *
 * What is asserted, per target:
 * - nothing throws and every input completes (no hang: the test simply has to finish);
 * - memory stays bounded: the receivers never hold more than a line (257 bytes) between chunks,
 *   and the heap after a forced GC grows by less than a few MB over the whole campaign;
 * - every line is accounted for EXACTLY: the expectation is computed per input, before the test
 *   runs, from a reference line splitter written from PROTOCOL.md §2.2 and the codec's verdict on
 *   each line, and the receiver's own counters must equal it code by code;
 * - independent oracles the codec cannot fake: no truncated frame and no frame with a bit flip the
 *   CRC must detect is ever accepted; over-long lines are always TOO_LONG; everything accepted
 *   re-encodes to a frame that decodes to the same message; a host never answers a line.
 *
 * The counts appear in the test names (the reporter prints them) and in
 * test-results/fuzz-counts.json. Nothing is printed to the console.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ReplaySubject, Subject } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MAX_LINE_BYTES,
  decode,
  decodeDeviceLine,
  decodeRequest,
  encode,
  type DecodeErrorCode,
} from '../../firmware-protocol/index.js';
import { DeviceClient } from '../../src/device/client.js';
import { LineReader, MAX_BUFFERED_BYTES, type ReadRecord } from '../../src/device/line-reader.js';
import type { Transport, TransportClosed, TransportInput } from '../../src/device/transport.js';
import { SimulatedStimulator } from '../../src/simulator/index.js';
import { ManualScheduler } from '../support/virtual-time.js';
import { type FuzzInput, ReferenceSplitter, Rng, chunks, corpus } from './fuzz-corpus.js';
import { LONG, envInt, sized, timeoutMs } from './mode.js';

const N = envInt('EDN_FUZZ_INPUTS', sized(50_000, 1_000_000));
const SEED = envInt('EDN_FUZZ_SEED', 0x5eed);
/** One huge line (up to 10 MB; the first exactly 10 MB) every this many inputs. */
const HUGE_EVERY = LONG ? 20_000 : 5_000;
const HOST_SEED = SEED;
const DEVICE_SEED = (SEED ^ 0xdec0de) >>> 0;
const DECODE_CODES: readonly DecodeErrorCode[] = ['BAD_CRC', 'BAD_FRAME', 'TOO_LONG', 'UNKNOWN_VERB', 'BAD_ARG'];
/** Heap growth allowed over a whole campaign, after a forced GC (nothing is kept per line). */
const HEAP_BOUND_BYTES = 16 * 1024 * 1024;

type Counts = Record<string, number>;

function bump(counts: Counts, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

function sum(counts: Counts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function byCode(counts: Counts): string {
  return DECODE_CODES.filter((c) => counts[c]).map((c) => `${c} ${counts[c]}`).join(', ');
}

/** The input without the one `\n` that ends it: what a direct decoder call is given. */
function lineOf(input: FuzzInput): string {
  return input.bytes.endsWith('\n') ? input.bytes.slice(0, -1) : input.bytes;
}

// ---- expectations, computed before any test runs (so the counts can name the tests) --------------

interface HostExpectation {
  /** decodeDeviceLine called on each input directly. */
  direct: { accepted: number; rejected: Counts };
  /** The byte stream split as a conforming receiver must split it. */
  stream: { lines: number; empty: number; rejected: Counts; events: number; staleReplies: number; deviceErrors: Counts };
}

function expectHost(): HostExpectation {
  const e: HostExpectation = {
    direct: { accepted: 0, rejected: {} },
    stream: { lines: 0, empty: 0, rejected: {}, events: 0, staleReplies: 0, deviceErrors: {} },
  };
  const splitter = new ReferenceSplitter((l) => {
    e.stream.lines++;
    if (l.kind === 'empty') e.stream.empty++;
    else if (l.kind === 'too-long') bump(e.stream.rejected, 'TOO_LONG');
    else {
      const d = decodeDeviceLine(l.text);
      if (!d.ok) bump(e.stream.rejected, d.error.code);
      else if (d.message.type === 'event') e.stream.events++;
      else if (d.message.type === 'err' && d.message.seq === null) bump(e.stream.deviceErrors, `DEVICE_${d.message.args.code}`);
      else e.stream.staleReplies++;
    }
  });
  for (const input of corpus(HOST_SEED, N, 'host', HUGE_EVERY)) {
    const d = decodeDeviceLine(lineOf(input));
    if (d.ok) e.direct.accepted++;
    else bump(e.direct.rejected, d.error.code);
    splitter.push(input.bytes);
  }
  splitter.push('\n');
  return e;
}

interface DeviceExpectation {
  lines: number;
  empty: number;
  /** Decode-level rejections, by code. */
  rejected: Counts;
  /** Lines that decode as requests: each is executed (OK or a state error such as NO_HELLO). */
  validRequests: number;
}

function expectDevice(): DeviceExpectation {
  const e: DeviceExpectation = { lines: 0, empty: 0, rejected: {}, validRequests: 0 };
  const splitter = new ReferenceSplitter((l) => {
    e.lines++;
    if (l.kind === 'empty') e.empty++;
    else if (l.kind === 'too-long') bump(e.rejected, 'TOO_LONG');
    else {
      const d = decodeRequest(l.text);
      if (d.ok) e.validRequests++;
      else bump(e.rejected, d.error.code);
    }
  });
  for (const input of corpus(DEVICE_SEED, N, 'device', HUGE_EVERY)) splitter.push(input.bytes);
  splitter.push('\n');
  return e;
}

const HOST = expectHost();
const DEVICE = expectDevice();

// ---- heap ---------------------------------------------------------------------------------------

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

// ---- the report -----------------------------------------------------------------------------------

const report: Record<string, unknown> = { seed: SEED, hostSeed: HOST_SEED, deviceSeed: DEVICE_SEED, inputsPerTarget: N, long: LONG, hugeEvery: HUGE_EVERY };

afterAll(() => {
  const dir = fileURLToPath(new URL('../../test-results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}fuzz-counts.json`, `${JSON.stringify(report, null, 2)}\n`);
});

/** Yield to the event loop now and then, so streams and timers behave as in production. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

// ---- 1. the host decoder, called directly ---------------------------------------------------------

const directRejected = sum(HOST.direct.rejected);

describe('fuzz: host decoder (decodeDeviceLine), direct calls', () => {
  it(
    `decodes ${N} inputs without a throw: ${HOST.direct.accepted} accepted, ${directRejected} rejected (${byCode(HOST.direct.rejected)})`,
    () => {
      const heapBefore = heapAfterGc();
      const accepted: Counts = {};
      const rejected: Counts = {};
      const kinds: Counts = {};
      const problems: string[] = [];
      const problem = (what: string, input: FuzzInput, index: number) => {
        if (problems.length < 10) problems.push(`#${index} (${input.kind}) ${what}: ${JSON.stringify(input.bytes.slice(0, 120))}`);
      };
      let index = 0;
      for (const input of corpus(HOST_SEED, N, 'host', HUGE_EVERY)) {
        bump(kinds, input.kind);
        const line = lineOf(input);
        let d: ReturnType<typeof decodeDeviceLine>;
        let any: ReturnType<typeof decode>;
        try {
          d = decodeDeviceLine(line);
          any = decode(line);
        } catch (e) {
          problem(`threw ${String(e)}`, input, index++);
          continue;
        }
        const bare = line.endsWith('\r') ? line.slice(0, -1) : line;
        if (d.ok) {
          bump(accepted, d.message.type);
          // Independent oracles: none of these may ever decode.
          if (input.kind === 'truncate' || input.kind === 'bitflip1' || input.kind === 'bitflipBody') problem('a mutant the CRC must catch was accepted', input, index);
          if (bare.length > MAX_LINE_BYTES) problem('an over-long line was accepted', input, index);
          for (let i = 0; i < bare.length; i++) {
            const c = bare.charCodeAt(i);
            if (c < 0x20 || c > 0x7e) {
              problem(`a line with byte 0x${c.toString(16)} was accepted`, input, index);
              break;
            }
          }
          // What was accepted re-encodes to a frame that decodes to the same message.
          const again = decode(encode(d.message));
          if (!again.ok || JSON.stringify(again.message) !== JSON.stringify(d.message)) problem('did not survive encode/decode', input, index);
          if (!any.ok || any.message.type === 'request') problem('decode and decodeDeviceLine disagree', input, index);
        } else {
          const { code, message, seq } = d.error;
          bump(rejected, code);
          if (!DECODE_CODES.includes(code)) problem(`unknown code ${code}`, input, index);
          if (typeof message !== 'string' || message.length === 0) problem('an error without a message', input, index);
          if (seq !== undefined && code !== 'UNKNOWN_VERB' && code !== 'BAD_ARG') problem(`${code} carried a seq`, input, index);
          if (bare.length > MAX_LINE_BYTES && code !== 'TOO_LONG') problem(`an over-long line was ${code}, not TOO_LONG`, input, index);
          // A request is refused by a host only as BAD_FRAME (direction), never accepted.
          if (any.ok && any.message.type !== 'request') problem('decode accepted what decodeDeviceLine refused', input, index);
          if (any.ok && any.message.type === 'request' && code !== 'BAD_FRAME') problem('a misdirected request was not BAD_FRAME', input, index);
        }
        index++;
      }
      const heapGrowth = heapAfterGc() - heapBefore;
      report.hostDecoder = { inputs: index, accepted, rejected, kinds, heapGrowthBytes: heapGrowth };
      expect(problems).toEqual([]);
      expect(index).toBe(N);
      expect(sum(accepted)).toBe(HOST.direct.accepted);
      expect(rejected).toEqual(HOST.direct.rejected);
      // The corpus really exercises every decode step.
      for (const code of DECODE_CODES) expect(rejected[code] ?? 0, code).toBeGreaterThan(0);
      expect(Object.keys(accepted).sort()).toEqual(['err', 'event', 'ok']);
      expect(heapGrowth).toBeLessThan(HEAP_BOUND_BYTES);
    },
    timeoutMs(60_000),
  );
});

// ---- 2. the DeviceClient's whole input path --------------------------------------------------------

/** SerialTransport without the serial port: bytes -> capped LineReader -> input$. */
class ReaderTransport implements Transport {
  readonly name = 'fuzz';
  readonly input$ = new Subject<TransportInput>();
  readonly closed$ = new ReplaySubject<TransportClosed>(1);
  readonly reader = new LineReader();
  readonly written: string[] = [];
  constructor() {
    this.reader.on('data', (r: ReadRecord) => {
      this.input$.next(r.kind === 'line' ? { kind: 'line', text: r.text } : { kind: 'overflow', droppedBytes: r.droppedBytes });
    });
  }
  write(line: string): void {
    this.written.push(line);
  }
  close(): Promise<void> {
    this.closed$.next({ reason: 'closed', detail: 'closed by the test' });
    this.input$.complete();
    return Promise.resolve();
  }
}

const streamRejected = sum(HOST.stream.rejected);

describe('fuzz: DeviceClient input path (bytes in random chunks -> LineReader -> decode)', () => {
  it(
    `counts all ${HOST.stream.lines} lines of ${N} inputs: ${HOST.stream.events} events, ${HOST.stream.staleReplies} stale replies, ${sum(HOST.stream.deviceErrors)} device ERR, ${HOST.stream.empty} empty, ${streamRejected} rejected (${byCode(HOST.stream.rejected)})`,
    async () => {
      const heapBefore = heapAfterGc();
      const transport = new ReaderTransport();
      const client = new DeviceClient({ transport, scheduler: new ManualScheduler() });
      let events = 0;
      const rejectedSeen: Counts = {};
      client.events$.subscribe(() => events++);
      client.rejected$.subscribe((r) => bump(rejectedSeen, r.code));
      const rng = new Rng(HOST_SEED ^ 0xc4c4);
      let maxBuffered = 0;
      let inputs = 0;
      const feed = (chunk: string) => {
        transport.reader.write(Buffer.from(chunk, 'latin1'));
        maxBuffered = Math.max(maxBuffered, transport.reader.bufferedBytes);
      };
      for (const input of corpus(HOST_SEED, N, 'host', HUGE_EVERY)) {
        for (const c of chunks(rng, input.bytes)) feed(c);
        if (++inputs % 1000 === 0) await tick();
      }
      feed('\n');
      await tick();

      const counters = client.counters;
      const deviceErrorsSeen = Object.fromEntries(Object.entries(rejectedSeen).filter(([k]) => k.startsWith('DEVICE_')));
      const decodeRejectedSeen = Object.fromEntries(Object.entries(rejectedSeen).filter(([k]) => !k.startsWith('DEVICE_')));
      const heapGrowth = heapAfterGc() - heapBefore;
      report.clientInputPath = {
        inputs,
        lines: HOST.stream.lines,
        counters,
        rejectedByCode: decodeRejectedSeen,
        deviceErrorsByCode: deviceErrorsSeen,
        events,
        reader: { linesRead: transport.reader.linesRead, overflows: transport.reader.overflows, droppedBytes: transport.reader.droppedBytes, maxBufferedBytes: maxBuffered },
        heapGrowthBytes: heapGrowth,
      };
      client.dispose();
      await transport.close();

      expect(inputs).toBe(N);
      // Every rejected line counted, code by code, and nothing else counted as rejected.
      expect(counters.rejected).toBe(streamRejected);
      expect(decodeRejectedSeen).toEqual(HOST.stream.rejected);
      expect(transport.reader.overflows).toBe(HOST.stream.rejected.TOO_LONG ?? 0);
      expect(counters.linesIn).toBe(HOST.stream.lines - (HOST.stream.rejected.TOO_LONG ?? 0));
      // Everything valid went where it belongs.
      expect(events).toBe(HOST.stream.events);
      expect(counters.staleReplies).toBe(HOST.stream.staleReplies);
      expect(counters.deviceErrors).toBe(sum(HOST.stream.deviceErrors));
      expect(deviceErrorsSeen).toEqual(HOST.stream.deviceErrors);
      // A host never answers a line.
      expect(transport.written).toEqual([]);
      expect(maxBuffered).toBeLessThanOrEqual(MAX_BUFFERED_BYTES);
      expect(heapGrowth).toBeLessThan(HEAP_BOUND_BYTES);
    },
    timeoutMs(60_000),
  );
});

// ---- 3. the simulator's parser ----------------------------------------------------------------------

const deviceRejected = sum(DEVICE.rejected);

describe("fuzz: the simulator's parser (SimulatedStimulator.receive, virtual time)", () => {
  it(
    `counts all ${DEVICE.lines} lines of ${N} inputs: ${DEVICE.validRequests} valid requests executed, ${DEVICE.empty} empty, ${deviceRejected} rejected (${byCode(DEVICE.rejected)})`,
    async () => {
      const heapBefore = heapAfterGc();
      const scheduler = new ManualScheduler();
      const sim = new SimulatedStimulator({ scheduler, seed: 11 });
      // Everything the device sends must be a valid frame, and `! ERR` at most 10 per second.
      let sent = 0;
      let invalidSent = 0;
      let firstInvalid = '';
      const errTimes: number[] = [];
      let rateViolations = 0;
      let partial = '';
      sim.onTransmit((chunk) => {
        partial += chunk;
        let nl: number;
        while ((nl = partial.indexOf('\n')) >= 0) {
          const line = partial.slice(0, nl);
          partial = partial.slice(nl + 1);
          sent++;
          const d = decodeDeviceLine(line);
          if (!d.ok) {
            invalidSent++;
            firstInvalid ||= `${line} (${d.error.message})`;
          } else if (d.message.type === 'err' && d.message.seq === null) {
            const now = scheduler.now();
            errTimes.push(now);
            while (errTimes.length > 0 && errTimes[0]! <= now - 1000) errTimes.shift();
            if (errTimes.length > 10) rateViolations++;
          }
        }
      });
      sim.start();
      const rng = new Rng(DEVICE_SEED ^ 0x51a1);
      let maxBuffered = 0;
      let inputs = 0;
      const feed = (chunk: string) => {
        // Both chunk types the simulator accepts: latin1 strings and bytes.
        sim.receive(rng.chance(0.5) ? chunk : Buffer.from(chunk, 'latin1'));
        maxBuffered = Math.max(maxBuffered, sim.snapshot().rxBufferedBytes);
      };
      for (const input of corpus(DEVICE_SEED, N, 'device', HUGE_EVERY)) {
        for (const c of chunks(rng, input.bytes)) feed(c);
        // 1 ms of virtual time every 4 inputs: ticks, telemetry, watchdog trips and the ERR rate
        // limit all run while the garbage arrives.
        if (++inputs % 4 === 0) scheduler.advance(1);
        if (inputs % 1000 === 0) await tick();
      }
      feed('\n');
      const snap = sim.snapshot();
      sim.dispose();
      const counts = snap.counters.rejectedByCode as Counts;
      const decodeRejected = Object.fromEntries(DECODE_CODES.filter((c) => counts[c]).map((c) => [c, counts[c]!]));
      const executionRefused = Object.fromEntries(Object.entries(counts).filter(([c, n]) => n > 0 && !DECODE_CODES.includes(c as DecodeErrorCode)));
      const heapGrowth = heapAfterGc() - heapBefore;
      report.simulatorParser = {
        inputs,
        lines: DEVICE.lines,
        rejectedByCode: decodeRejected,
        validRequests: { framesOk: snap.counters.framesOk, refusedByCode: executionRefused, repeatsAnswered: snap.counters.repeatsAnswered },
        sent: { lines: sent, invalid: invalidSent, unsolicitedErrorsSuppressed: snap.counters.unsolicitedErrorsSuppressed },
        maxRxBufferedBytes: maxBuffered,
        virtualMs: scheduler.now(),
        heapGrowthBytes: heapGrowth,
      };

      expect(inputs).toBe(N);
      // Every rejected line counted, code by code.
      expect(decodeRejected).toEqual(DEVICE.rejected);
      // Every valid request executed exactly once (answered OK, or refused for the device's state).
      expect(snap.counters.framesOk + sum(executionRefused)).toBe(DEVICE.validRequests);
      expect(maxBuffered).toBeLessThanOrEqual(MAX_LINE_BYTES);
      expect(firstInvalid).toBe('');
      expect(invalidSent).toBe(0);
      expect(rateViolations).toBe(0);
      expect(heapGrowth).toBeLessThan(HEAP_BOUND_BYTES);
    },
    timeoutMs(60_000),
  );
});
