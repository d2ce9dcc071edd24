// Issue 9 item 13: a user protocol could take a built-in's exact name and mark any value
// "verified". Names (and ids) are now unique against the library, and a user protocol's
// "verified" list is its author's claim, never the library's verified mark.
import { describe, expect, it } from 'vitest';
import { BUILT_INS, BUILT_IN_FILES } from '../../../src/domain/protocols/library/index.js';
import { builtInConflicts, comparableName, parseUserProtocolText, validateUserProtocol, verificationOf } from '../../../src/domain/protocols/user.js';
import { formatProtocolError, validateProtocol } from '../../../src/domain/protocols/validate.js';

const knee = () => structuredClone(BUILT_IN_FILES['knee-oa-periosteal.json']) as Record<string, unknown> & { name: string; id: string; sources: { verified: string[]; unverified: string[] }[] };
const KNEE_NAME = 'Periosteal EDN for knee osteoarthritis';

describe('H26 names and ids unique against the library', () => {
  it('refuses a user protocol with a built-in\'s exact name, naming the field, the value and why', () => {
    const file = { ...knee(), id: 'my-knee' };
    file.sources[0]!.verified.push('phases[0].amplitude.maxMa');
    file.sources[0]!.unverified = file.sources[0]!.unverified.filter((p) => p !== 'phases[0].amplitude.maxMa');
    // The same file passes the format's own rules: only the library rule refuses it.
    expect(validateProtocol(file).ok).toBe(true);
    const r = validateUserProtocol(file);
    expect(!r.ok && r.errors.map(formatProtocolError)).toEqual([
      `name: "${KNEE_NAME}" is the name of the built-in protocol knee-oa-periosteal: give your protocol its own name (for example "${KNEE_NAME} (customised)"), so no one takes it for the built-in and its checked values`,
    ]);
  });

  it.each([KNEE_NAME.toUpperCase(), ` ${KNEE_NAME}.`, 'Periosteal EDN for knee-osteoarthritis', 'Periósteal EDN for knee osteoarthritis'])('refuses the name written as %j', (name) => {
    const r = validateUserProtocol({ ...knee(), id: 'my-knee', name });
    expect(!r.ok && r.errors.map((e) => e.path)).toEqual(['name']);
  });

  it('refuses a built-in\'s id (a changed copy under the same id), and accepts the built-in itself', () => {
    const changed = { ...knee(), name: 'Something else', aftercare: 'changed' };
    const r = validateUserProtocol(changed);
    expect(!r.ok && r.errors.map((e) => e.path)).toEqual(['id']);
    for (const b of BUILT_INS) expect(validateUserProtocol(b.source).ok, b.id).toBe(true);
  });

  it('accepts the copy the editor makes ("(customised)", new id)', () => {
    expect(validateUserProtocol({ ...knee(), id: 'knee-oa-periosteal-custom', name: `${KNEE_NAME} (customised)` }).ok).toBe(true);
  });

  it('places the error at the name in the file text', () => {
    const text = JSON.stringify({ ...knee(), id: 'my-knee' }, null, 2);
    const r = parseUserProtocolText(text, 'mine.json');
    expect(!r.ok && r.errors.map((e) => [e.path, e.line, e.column])).toEqual([['name', 4, 11]]);
  });

  it('compares names without case, accents, punctuation or spacing', () => {
    expect(comparableName('  Knee — EDN, 2 Hz! ')).toBe('knee edn 2 hz');
    expect(builtInConflicts({ id: 'x-y', name: 'Dense-Disperse 2/100 Hz', hash: 'f'.repeat(64) }).map((e) => e.path)).toEqual(['name']);
  });
});

describe('H26 whose word "verified" is', () => {
  it('is the library\'s only for a built-in version, by content hash', () => {
    for (const b of BUILT_INS) expect(verificationOf(b.hash)).toBe('library');
    const copy = validateUserProtocol({ ...knee(), id: 'my-knee', name: 'My knee' });
    if (!copy.ok) throw new Error(copy.errors.map(formatProtocolError).join('\n'));
    expect(verificationOf(copy.hash)).toBe('author');
  });
});
