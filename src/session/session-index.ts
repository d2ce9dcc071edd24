/**
 * The index of sessions: `<dataDir>/sessions/index.jsonl`, one JSON line per event, append-only,
 * fsynced. A journal's hash chain shows a line edited, inserted, moved or deleted in its middle,
 * but not lines cut off its end (what is left is still a valid chain). So each journal reports to
 * the index when its session starts, when it ends and when it is closed, with how many records it
 * then held and the hash of the last one; a reader compares the journal with the index's last word
 * on it and says "truncated: N records missing after HH:MM:SS" when it ends short.
 *
 * The index is written only once the records it counts are on disk (fsynced), so it never claims
 * more than the journal held. A journal the index has never heard of, with no end record, is
 * "incomplete (crash or truncation)", never "intact".
 */
import * as nodeFs from 'node:fs';
import * as nodePath from 'node:path';
import * as z from 'zod';

export const INDEX_FILE = 'index.jsonl';

export const IndexEntrySchema = z.strictObject({
  v: z.literal(1),
  /** start: session-start is on disk; end: session-end is on disk; close: the journal was closed. */
  event: z.enum(['start', 'end', 'close']),
  sessionId: z.string().min(1).max(64),
  /** The journal's file name (in the same directory as the index). */
  file: z.string().min(1).max(200),
  /** Records in the journal when this entry was written. */
  records: z.number().int().min(0),
  /** SHA-256 (hex) of the last record's line, or the genesis hash when there are none. */
  lastHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Wall-clock time of the last record (ISO-8601 UTC). */
  lastTs: z.string().min(1).max(40),
  at: z.string().min(1).max(40),
});
export type IndexEntry = z.output<typeof IndexEntrySchema>;

/** The file calls the index makes (node:fs satisfies it; journal tests inject failures). */
export interface IndexFs {
  openSync(path: string, flags: number, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
}

const { O_WRONLY, O_APPEND, O_CREAT } = nodeFs.constants;

/** Append one entry and fsync it. Throws the file system's error (the caller holds and retries). */
export function appendIndexEntry(dir: string, entry: IndexEntry, fs: IndexFs = nodeFs): void {
  const bytes = Buffer.from(`${JSON.stringify(IndexEntrySchema.parse(entry))}\n`, 'utf8');
  const fd = fs.openSync(nodePath.join(dir, INDEX_FILE), O_WRONLY | O_APPEND | O_CREAT, 0o600);
  try {
    let written = 0;
    while (written < bytes.length) {
      const n = fs.writeSync(fd, bytes, written, bytes.length - written);
      if (n <= 0) throw Object.assign(new Error('write wrote nothing'), { code: 'EIO' });
      written += n;
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export interface IndexReadResult {
  /** The last entry for each journal file name. */
  readonly last: ReadonlyMap<string, IndexEntry>;
  /** Lines that are not valid entries (a torn last line after a crash is one). */
  readonly invalidLines: number;
  /** The index could be read (false: there is none, or it is unreadable). */
  readonly present: boolean;
}

/** Read the index of a sessions directory. Never throws. */
export function readIndex(dir: string): IndexReadResult {
  let text: string;
  try {
    text = nodeFs.readFileSync(nodePath.join(dir, INDEX_FILE), 'utf8');
  } catch {
    return { last: new Map(), invalidLines: 0, present: false };
  }
  const last = new Map<string, IndexEntry>();
  let invalidLines = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      invalidLines += 1;
      continue;
    }
    const parsed = IndexEntrySchema.safeParse(value);
    if (!parsed.success) {
      invalidLines += 1;
      continue;
    }
    const prior = last.get(parsed.data.file);
    // The index is append-only: a later entry never counts fewer records than an earlier one.
    if (!prior || parsed.data.records >= prior.records) last.set(parsed.data.file, parsed.data);
  }
  return { last, invalidLines, present: true };
}
