/**
 * The treated side rules (src/domain/protocols/treated-side.ts) and the protocol field `bilateral`.
 */
import { describe, expect, it } from 'vitest';
import { builtInProtocol, BUILT_IN_IDS } from '../../../src/domain/protocols/library/index.js';
import { validateProtocol } from '../../../src/domain/protocols/index.js';
import { SNOMED_LATERALITY, bilateralProblem, resolveSides, sideChoiceProblem, sideChoices, sidedRegionText } from '../../../src/domain/protocols/treated-side.js';
import { JournalRecordSchema } from '../../../src/session/journal-records.js';
import { sessionStart } from '../../fixtures/journals/helpers.js';

type Channel = { channel: number; region: string; side: string; sites: unknown[] };
const kneeFile = () => structuredClone(builtInProtocol('knee-oa-periosteal')!.source) as Record<string, unknown> & { channels: Channel[] };
const ch = (channel: number, side: string, sites: string[] = ['medial joint line'], region = 'knee') => ({ channel, region, side, sites });

describe('H32 the protocol field "bilateral"', () => {
  it('is valid only with a channel for each side of the same sites', () => {
    const file = kneeFile();
    const first = file.channels[0]!;
    const both = { ...file, bilateral: true, channels: [first, { ...structuredClone(first), channel: 2 }] };
    expect(validateProtocol(both)).toMatchObject({ ok: true });

    // The built-in's two channels have different sites: bilateral cannot cover both sides.
    const refused = validateProtocol({ ...file, bilateral: true });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.errors).toContainEqual(
      expect.objectContaining({ path: 'bilateral', message: expect.stringMatching(/the affected channel 2 \(right side\) must repeat the region and sites of affected channel 1 \(left side\)/) as unknown }),
    );
  });

  it('is refused with an odd number of affected channels, with none, and when not a boolean', () => {
    expect(bilateralProblem([ch(1, 'affected')])).toMatch(/the 1 "affected" channel cannot be split into a left and a right half/);
    expect(bilateralProblem([ch(1, 'left'), ch(2, 'right')])).toMatch(/no channel is on the "affected" side/);
    const notBoolean = validateProtocol({ ...kneeFile(), bilateral: 'yes' });
    expect(!notBoolean.ok && notBoolean.errors).toContainEqual(expect.objectContaining({ path: 'bilateral', message: 'expected true or false, got "yes"' }));
  });

  it('defaults to false: no built-in allows bilateral, each offers left or right', () => {
    for (const id of BUILT_IN_IDS) {
      const p = builtInProtocol(id)!.protocol;
      expect(p.bilateral ?? false).toBe(false);
      expect(sideChoices(p)).toEqual(['left', 'right']);
    }
  });
});

describe('H32 the side choice', () => {
  const affected = { id: 'p', channels: [ch(1, 'affected'), ch(2, 'affected')] };
  it('is required for affected channels, refused for fixed ones, bilateral only where allowed', () => {
    expect(sideChoiceProblem(affected, undefined)?.code).toBe('SIDE_REQUIRED');
    expect(sideChoiceProblem(affected, 'left')).toBeUndefined();
    expect(sideChoiceProblem(affected, 'bilateral')?.code).toBe('SIDE_NOT_ALLOWED');
    expect(sideChoiceProblem({ ...affected, bilateral: true }, 'bilateral')).toBeUndefined();
    expect(sideChoiceProblem({ id: 'f', channels: [ch(1, 'left')] }, 'right')?.code).toBe('SIDE_NOT_ALLOWED');
    expect(sideChoiceProblem({ id: 'f', channels: [ch(1, 'left')] }, undefined)).toBeUndefined();
  });

  it('resolves each channel: affected to the side, bilateral first half left and second half right, fixed sides kept', () => {
    const channels = [ch(1, 'affected'), ch(2, 'midline', [], 'low-back'), ch(3, 'affected'), ch(4, 'left')];
    expect(resolveSides(channels, 'right')).toEqual(['right', 'midline', 'right', 'left']);
    expect(resolveSides(channels, 'bilateral')).toEqual(['left', 'midline', 'right', 'left']);
    expect(resolveSides(channels, undefined)).toEqual(['affected', 'midline', 'affected', 'left']);
  });

  it('reads "right knee", "left ankle or foot", "low back (midline)", "knee (affected side)"', () => {
    expect(sidedRegionText('knee', 'right')).toBe('right knee');
    expect(sidedRegionText('ankle-foot', 'left')).toBe('left ankle or foot');
    expect(sidedRegionText('low-back', 'midline')).toBe('low back (midline)');
    expect(sidedRegionText('knee', 'affected')).toBe('knee (affected side)');
  });

  it('codes laterality with the SNOMED CT qualifier values of HL7\'s laterality value set', () => {
    expect(SNOMED_LATERALITY).toEqual({
      left: { code: '7771000', display: 'Left (qualifier value)' },
      right: { code: '24028007', display: 'Right (qualifier value)' },
      bilateral: { code: '51440002', display: 'Right and left (qualifier value)' },
    });
  });
});

describe('H32 the journal record of the side (a format change that keeps old journals readable)', () => {
  const record = (data: unknown) => ({ n: 0, t: 0, ts: '2025-03-14T09:30:00.000Z', type: 'session-start', data, prev: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
  it('reads a session-start without "side" (written before it was asked) and with one of left, right, bilateral', () => {
    expect(JournalRecordSchema.safeParse(record(sessionStart())).success).toBe(true);
    for (const side of ['left', 'right', 'bilateral']) expect(JournalRecordSchema.safeParse(record({ ...sessionStart(), side })).success).toBe(true);
  });

  it('refuses any other side, naming the field', () => {
    const parsed = JournalRecordSchema.safeParse(record({ ...sessionStart(), side: 'affected' }));
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toContain('data.side');
  });
});
