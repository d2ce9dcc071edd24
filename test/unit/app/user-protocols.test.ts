// Issue 9 item 13 where protocols are stored: a user protocol cannot take a built-in's name or
// another user protocol's; its sources are listed as the author's claim (builtIn: false).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolStore } from '../../../src/app/store.js';
import { builtInProtocol } from '../../../src/domain/protocols/library/index.js';
import { serviceHarness, type ServiceHarness } from './service-harness.js';

const open: ServiceHarness[] = [];
function make(): ServiceHarness {
  const h = serviceHarness();
  open.push(h);
  return h;
}
afterEach(async () => {
  for (const h of open.splice(0)) await h.dispose();
});

const knee = () => structuredClone(builtInProtocol('knee-oa-periosteal')!.source) as Record<string, unknown>;
const KNEE_NAME = 'Periosteal EDN for knee osteoarthritis';

describe('saving and listing user protocols', () => {
  it('refuses to save a protocol under a built-in\'s name, as the editor validates it', async () => {
    const h = make();
    const file = { ...knee(), id: 'my-knee' };
    const v = await h.must('validateProtocol', { file });
    expect(v.valid).toBe(false);
    expect(v.errors.map((e) => e.path)).toEqual(['name']);
    const saved = await h.call('saveProtocol', { file });
    expect(saved).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', details: [{ path: 'name', message: expect.stringContaining('is the name of the built-in protocol knee-oa-periosteal') as unknown }] } });
  });

  it('refuses a second user protocol with the same name, and lets a protocol keep its own', async () => {
    const h = make();
    expect(await h.must('saveProtocol', { file: { ...knee(), id: 'mine-a', name: 'My knee' } })).toMatchObject({ id: 'mine-a' });
    const again = await h.call('saveProtocol', { file: { ...knee(), id: 'mine-b', name: 'my knee!' } });
    expect(again).toMatchObject({ ok: false, error: { details: [{ path: 'name', message: '"my knee!" is already the name of your protocol mine-a: give each protocol its own name' }] } });
    expect(await h.must('saveProtocol', { file: { ...knee(), id: 'mine-a', name: 'My knee', aftercare: 'Changed.' } })).toMatchObject({ id: 'mine-a' });
  });

  it('lists a hand-placed file that takes a built-in\'s name, or another file\'s, as unusable with the reason', async () => {
    const h = make();
    const dir = path.join(h.dataDir, 'protocols');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'impostor.json'), JSON.stringify({ ...knee(), id: 'impostor' }));
    writeFileSync(path.join(dir, 'twin-a.json'), JSON.stringify({ ...knee(), id: 'twin-a', name: 'Twin' }));
    writeFileSync(path.join(dir, 'twin-b.json'), JSON.stringify({ ...knee(), id: 'twin-b', name: 'Twin' }));
    const list = await h.must('listProtocols', {});
    // Only the built-in can run under its name; the impostor is listed as yours, with why it cannot run.
    expect(list.filter((p) => p.name === KNEE_NAME).map((p) => [p.id, p.builtIn, p.problem === undefined])).toEqual([
      ['knee-oa-periosteal', true, true],
      ['impostor', false, false],
    ]);
    expect(list.find((p) => p.id === 'impostor')!.problem).toMatch(/^name: .*is the name of the built-in protocol knee-oa-periosteal/);
    expect(list.find((p) => p.id === 'twin-a')!.problem).toBeUndefined();
    expect(list.find((p) => p.id === 'twin-b')!.problem).toBe('name: "Twin" is already the name of your protocol twin-a: give each protocol its own name');
    expect(await h.call('screeningForm', { protocolId: 'impostor' })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(new ProtocolStore(h.dataDir).nameConflict('twin-c', 'TWIN')).toMatchObject({ path: 'name' });
  });

  it('keeps a user protocol\'s sources flagged as not built-in (shown as the author\'s claim)', async () => {
    const h = make();
    await h.must('saveProtocol', { file: { ...knee(), id: 'mine-a', name: 'My knee' } });
    const mine = (await h.must('listProtocols', {})).find((p) => p.id === 'mine-a')!;
    expect(mine.builtIn).toBe(false);
    expect(mine.sources[0]!.verified).toEqual(['indication']);
  });
});
