import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../src/app/contract.js';
import { BUILT_IN_IDS, builtInProtocol } from '../../../src/domain/protocols/library/index.js';
import { answersFrom, serviceHarness, type ServiceHarness } from './service-harness.js';

let open: ServiceHarness[] = [];
function make(...args: Parameters<typeof serviceHarness>): ServiceHarness {
  const h = serviceHarness(...args);
  open.push(h);
  return h;
}
afterEach(async () => {
  for (const h of open) {
    expect(h.invalidOutputs).toEqual([]);
    expect(h.invalidEvents).toEqual([]);
    await h.dispose();
  }
  open = [];
});

const fixture = (...p: string[]) => JSON.parse(readFileSync(path.join(import.meta.dirname, '../../fixtures/protocols', ...p), 'utf8')) as Record<string, unknown>;
const kneeFile = () => structuredClone(builtInProtocol('knee-oa-periosteal')!.source) as Record<string, unknown>;
const snapshots = (h: ServiceHarness): Snapshot[] => h.events.flatMap((e) => (e.event === 'snapshot' ? [e.data] : []));

describe('ControllerService: protocols', () => {
  it('lists the built-ins with their figures, loads and validates them', async () => {
    const h = make();
    const list = await h.must('listProtocols', {});
    expect(list.map((p) => p.id)).toEqual([...BUILT_IN_IDS]);
    const knee = list.find((p) => p.id === 'knee-oa-periosteal')!;
    expect(knee).toMatchObject({ builtIn: true, totalMin: 20, phases: ['2 Hz continuous, 250 µs, up to 10 mA'] });
    expect(knee.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(knee.sources[0]!.key).toBe('DUNNING2018KNEE');

    const loaded = await h.must('loadProtocol', { id: 'knee-oa-periosteal' });
    expect(loaded.builtIn).toBe(true);
    expect(loaded.validation).toMatchObject({ valid: true, errors: [], hash: knee.hash });
    expect(loaded.validation.figures).toHaveLength(1);
    const keys = loaded.validation.figures[0]!.figures.map((f) => f.key);
    expect(keys).toEqual(expect.arrayContaining(['chargePerPhaseUc', 'chargeDensityUcPerCm2', 'shannonK', 'rmsDensityMaPerCm2']));
    expect(loaded.validation.figures[0]!.figures.find((f) => f.key === 'shannonK')!.status).toBe('ok');

    expect(await h.call('loadProtocol', { id: 'no-such-protocol' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('gives every protocol its evidence in words: the card, the start dialog and the editor read these', async () => {
    const h = make();
    const knee = (await h.must('listProtocols', {})).find((p) => p.id === 'knee-oa-periosteal')!;
    const unverified = knee.evidence.groups.find((g) => g.status === 'unverified' && g.source === 'DUNNING2018KNEE');
    expect(unverified?.text).toMatch(/^Frequency 2 Hz, pulse width 250 µs per phase, duration 20 min, .*: defaults you confirm; not verified against DUNNING2018KNEE$/);
    expect(knee.evidence.values.find((v) => v.path === 'phases[0].frequencyHz')).toMatchObject({ label: 'Frequency', value: '2 Hz', status: 'unverified' });

    const loaded = await h.must('loadProtocol', { id: 'knee-oa-periosteal' });
    expect(loaded.validation.evidence).toEqual(knee.evidence);
    // A draft the guard refuses still passes the schema, so the editor keeps showing its evidence;
    // a file that does not parse has none.
    const refused = await h.must('validateProtocol', { file: fixture('invalid', 'shannon-thin-needle.json') });
    expect(refused.valid).toBe(false);
    expect(refused.evidence?.values.find((v) => v.path === 'electrode.diameterMm')).toMatchObject({ label: 'Needle diameter', value: '0.25 mm', status: 'unverified' });
    expect((await h.must('validateProtocol', { file: fixture('invalid', 'amplitude-above-ceiling.json') })).evidence).toBeUndefined();
    expect((await h.must('validateProtocol', { file: 'hello' })).evidence).toBeUndefined();
  });

  it('validates as the editor types: path errors, and figures even when the guard refuses the phase', async () => {
    const h = make();
    const v = await h.must('validateProtocol', { file: fixture('invalid', 'amplitude-above-ceiling.json') });
    expect(v.valid).toBe(false);
    expect(v.errors.map((e) => e.path)).toContain('phases[0].amplitude.maxMa');
    expect(v.hash).toBeUndefined();

    const thin = await h.must('validateProtocol', { file: fixture('invalid', 'shannon-thin-needle.json') });
    expect(thin.valid).toBe(false);
    const shannon = thin.figures[0]!.figures.find((f) => f.key === 'shannonK')!;
    expect(shannon.status).toBe('blocked');

    const notAnObject = await h.must('validateProtocol', { file: 'hello' });
    expect(notAnObject).toMatchObject({ valid: false, figures: [] });
  });

  it('saves user protocols atomically; refuses invalid ones with their paths and built-in ids', async () => {
    const h = make();
    const bad = await h.call('saveProtocol', { file: fixture('invalid', 'amplitude-above-ceiling.json') });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.error.code).toBe('BAD_INPUT');
    expect(bad.error.details?.map((d) => d.path)).toContain('phases[0].amplitude.maxMa');
    expect(bad.error.message).toContain('phases[0].amplitude.maxMa');

    const builtIn = await h.call('saveProtocol', { file: kneeFile() });
    expect(builtIn).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', details: [{ path: 'id' }] } });
    expect(!builtIn.ok && builtIn.error.message).toMatch(/built-in/);

    const mine = { ...kneeFile(), id: 'my-knee', name: 'My knee protocol' };
    const saved = await h.must('saveProtocol', { file: mine });
    expect(saved.id).toBe('my-knee');
    const dir = path.join(h.dataDir, 'protocols');
    expect(readdirSync(dir)).toEqual(['my-knee.json']); // no temporary file left behind
    expect(JSON.parse(readFileSync(path.join(dir, 'my-knee.json'), 'utf8'))).toEqual(mine);

    // Saving again overwrites the user's own protocol.
    const renamed = await h.must('saveProtocol', { file: { ...mine, name: 'My knee protocol, v2' } });
    expect(renamed.hash).not.toBe(saved.hash);

    const list = await h.must('listProtocols', {});
    expect(list.find((p) => p.id === 'my-knee')).toMatchObject({ builtIn: false, name: 'My knee protocol, v2', hash: renamed.hash });
    const loaded = await h.must('loadProtocol', { id: 'my-knee' });
    expect(loaded).toMatchObject({ builtIn: false, validation: { valid: true, hash: renamed.hash } });
  });

  it('lists a user file that no longer validates with its problem, and refuses to screen with it', async () => {
    const h = make();
    const dir = path.join(h.dataDir, 'protocols');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'broken.json'), '{"format": "edn-protocol/1", "id": "broken", "name": "Broken",}');
    writeFileSync(path.join(dir, 'misnamed.json'), JSON.stringify({ ...kneeFile(), id: 'other-name', name: 'Another knee protocol' }));
    writeFileSync(path.join(dir, 'knee-oa-periosteal.json'), JSON.stringify({ ...kneeFile(), name: 'shadow' }));
    const list = await h.must('listProtocols', {});
    const broken = list.find((p) => p.id === 'broken')!;
    expect(broken.problem).toMatch(/not valid JSON/);
    expect(list.find((p) => p.id === 'misnamed')!.problem).toMatch(/file name and the id must match/);
    expect(list.filter((p) => p.id === 'knee-oa-periosteal')).toHaveLength(1);
    expect(list.find((p) => p.id === 'knee-oa-periosteal')!.builtIn).toBe(true);

    const loaded = await h.must('loadProtocol', { id: 'broken' });
    expect(loaded).toMatchObject({ builtIn: false, file: null, validation: { valid: false } });
    expect(await h.call('screeningForm', { protocolId: 'broken' })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
  });
});

describe('ControllerService: screening', () => {
  it('offers the questionnaire with text, severity, scope and source; pregnancy only for the pelvis, abdomen and low back', async () => {
    const h = make();
    const knee = await h.must('screeningForm', { protocolId: 'knee-oa-periosteal' });
    const pacemaker = knee.questions.find((q) => q.id === 'implantedElectronicDevice')!;
    expect(pacemaker).toMatchObject({ severity: 'absolute', scope: 'patient' });
    expect(pacemaker.text).toMatch(/pacemaker/);
    expect(pacemaker.source).toMatch(/CLINICAL\.md/);
    expect(knee.questions.find((q) => q.id === 'metalImplant')).toMatchObject({ severity: 'relative', scope: 'site' });
    expect(knee.questions.some((q) => q.id === 'pregnancy')).toBe(false);
    expect(knee.template).toMatchObject({ format: 'edn-screening/1', patientRef: null, protocolId: 'knee-oa-periosteal' });

    const back = await h.must('screeningForm', { protocolId: 'low-back-mtrp' });
    expect(back.questions.find((q) => q.id === 'pregnancy')).toMatchObject({ severity: 'absolute', scope: 'patient' });
  });

  it('blocks a pacemaker with the reason; a relative finding needs an acknowledgement by a named clinician', async () => {
    const h = make();
    const { template } = await h.must('screeningForm', { protocolId: 'knee-oa-periosteal' });

    const blocked = await h.must('submitScreening', {
      side: 'left',
      protocolId: 'knee-oa-periosteal',
      answers: answersFrom(template, 'PT-0042', { implantedElectronicDevice: true }),
      acknowledgements: [],
    });
    expect(blocked.status).toBe('blocked');
    const finding = blocked.findings.find((f) => f.id === 'implantedElectronicDevice')!;
    expect(finding.kind).toBe('absolute');
    expect(finding.message).toMatch(/implanted or wearable electronic devices/);
    expect(blocked.electrodes).toEqual([]);

    const relative = answersFrom(template, 'PT-0042', { bleedingRisk: true });
    const pending = await h.must('submitScreening', { side: 'left', protocolId: 'knee-oa-periosteal', answers: relative, acknowledgements: [] });
    expect(pending.status).toBe('needs-acknowledgement');
    expect(pending.findings).toEqual([expect.objectContaining({ id: 'bleedingRisk', kind: 'relative' })]);

    // Nobody to record as acknowledging: refused.
    const anonymous = await h.call('submitScreening', { side: 'left', protocolId: 'knee-oa-periosteal', answers: relative, acknowledgements: ['bleedingRisk'] });
    expect(anonymous).toMatchObject({ ok: false, error: { code: 'SCREENING' } });

    // Unanswered questions block.
    const unanswered = await h.must('submitScreening', { side: 'left', protocolId: 'knee-oa-periosteal', answers: template, acknowledgements: [] });
    expect(unanswered.status).toBe('blocked');
    expect(unanswered.findings.some((f) => f.kind === 'unanswered')).toBe(true);

    // Answers that are not an answers file: BAD_INPUT naming the field.
    const garbage = await h.call('submitScreening', { side: 'left', protocolId: 'knee-oa-periosteal', answers: { ...(template as object), answers: { bleedingRisk: 'maybe' } }, acknowledgements: [] });
    expect(garbage.ok).toBe(false);
    expect(!garbage.ok && garbage.error.details?.some((d) => d.path.startsWith('answers.'))).toBe(true);

    // Cleared but no device: the clinician is told to connect.
    await h.must('setSettings', { clinician: 'JD' });
    const noDevice = await h.call('submitScreening', { side: 'left', protocolId: 'knee-oa-periosteal', answers: relative, acknowledgements: ['bleedingRisk'] });
    expect(noDevice).toMatchObject({ ok: false, error: { code: 'NOT_CONNECTED' } });
    expect(!noDevice.ok && noDevice.error.message).toMatch(/connect/);
  });
});

describe('ControllerService: a session on the simulator, virtual time', () => {
  it('H17 connects, screens, checks electrodes, starts, titrates, pauses, e-stops, clears, starts a new session; records and reports it', async () => {
    const h = make();
    expect(await h.must('listPorts', {})).toEqual([{ path: 'sim', kind: 'simulator', label: 'Simulated stimulator (no hardware)', likelyStimulator: false }]);
    expect(await h.call('connect', { path: '/dev/ttyUSB0' })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: expect.stringMatching(/--allow-hardware/) as unknown } });
    expect(await h.call('start', { targetMa: 2 })).toMatchObject({ ok: false, error: { code: 'NOT_CONNECTED' } });

    const device = await h.must('connect', { path: 'sim' });
    expect(device).toMatchObject({ transport: 'simulator', model: 'EDN-SIM4', limits: { channels: 4 } });
    expect(h.service.snapshot.state).toBe('ready');
    expect(await h.call('connect', { path: 'sim' })).toMatchObject({ ok: false, error: { code: 'ILLEGAL_STATE' } });

    await h.must('setSettings', { clinician: 'JD' });
    const { template } = await h.must('screeningForm', { protocolId: 'knee-oa-periosteal' });
    const screened = await h.must('submitScreening', {
      side: 'left',
      protocolId: 'knee-oa-periosteal',
      answers: answersFrom(template, 'PT-0042', { needlePhobia: true }),
      acknowledgements: ['needlePhobia'],
    });
    expect(screened.status).toBe('cleared');
    expect(screened.findings.map((f) => f.id)).toEqual(['needlePhobia']);
    expect(screened.electrodes).toHaveLength(2);
    expect(screened.electrodes.every((e) => e.ok)).toBe(true);
    expect(h.service.snapshot).toMatchObject({ state: 'checking-electrodes', sessionId: 'S1', protocol: { id: 'knee-oa-periosteal' } });
    expect((await h.must('checkElectrodes', {})).every((e) => e.ok)).toBe(true);

    expect(await h.call('start', { targetMa: 11 })).toMatchObject({ ok: false, error: { code: 'LIMIT' } });
    expect(await h.must('start', { targetMa: 2 })).toBeNull();
    expect(h.service.outputMayBeOn()).toBe(true);
    await h.until(() => h.service.snapshot.state === 'running', 20_000, 'running');
    expect(h.service.snapshot.channels.map((c) => [c.commandedMa, c.on])).toEqual([
      [2, true],
      [2, true],
    ]);
    await h.run(1000);
    expect(h.events.some((e) => e.event === 'telemetry')).toBe(true);

    expect(await h.must('titrate', { deltaMa: 0.5 })).toEqual({ targets: [{ channel: 1, targetMa: 2.5 }, { channel: 2, targetMa: 2.5 }], refused: [] });
    expect(await h.must('titrate', { deltaMa: -0.1, channel: 2 })).toEqual({ targets: [{ channel: 2, targetMa: 2.4 }], refused: [] });
    expect(await h.call('titrate', { deltaMa: 0.5, channel: 3 })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    await h.run(2000);
    expect(h.service.snapshot.channels.map((c) => c.commandedMa)).toEqual([2.5, 2.4]);

    expect(await h.must('pause', {})).toBeNull();
    expect(h.service.snapshot.state).toBe('paused');
    expect(h.service.outputMayBeOn()).toBe(true);
    expect(await h.call('disconnect', {})).toMatchObject({ ok: false, error: { code: 'ILLEGAL_STATE' } });
    expect(await h.must('resume', {})).toBeNull();
    await h.until(() => h.service.snapshot.state === 'running', 20_000, 'running again');

    expect(await h.must('addNote', { text: 'patient reports a strong, comfortable sensation' })).toBeNull();

    expect(await h.must('estop', { source: 'button' })).toBeNull();
    const stopped = h.service.snapshot;
    expect(stopped).toMatchObject({ state: 'stopped', latched: true });
    expect(stopped.channels.every((c) => !c.on)).toBe(true);
    expect(h.service.outputMayBeOn()).toBe(false);
    const alarm = stopped.alarms.find((a) => a.priority === 'high')!;
    expect(alarm.cause).toMatch(/Emergency stop/);
    expect(await h.must('acknowledgeAlarm', { id: alarm.id })).toBeNull();
    expect(h.service.snapshot.alarms.some((a) => a.id === alarm.id)).toBe(false);
    expect(await h.call('acknowledgeAlarm', { id: alarm.id })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });

    expect(await h.call('newSession', {})).toMatchObject({ ok: false, error: { code: 'LATCHED', message: expect.stringMatching(/latched/) as unknown } });
    expect(await h.must('clear', {})).toBeNull();
    expect(h.service.snapshot.latched).toBe(false);
    expect(await h.must('newSession', {})).toBeNull();
    expect(h.service.snapshot.state).toBe('ready');
    expect((await h.must('getSnapshot', {})).state).toBe('ready');

    const sessions = await h.must('listSessions', {});
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      sessionId: 'S1',
      startedAt: expect.stringMatching(/^2025-03-14T09:30:\d\d\.\d{3}Z$/) as unknown,
      patientRef: 'PT-0042',
      protocolId: 'knee-oa-periosteal',
      protocolName: 'Periosteal EDN for knee osteoarthritis',
      endReason: 'stopped',
      intact: true,
    });
    expect(sessions[0]!.stimulationS).toBeGreaterThan(3);

    const html = await h.must('openReport', { sessionId: 'S1', format: 'html' });
    expect(html).toMatchObject({ format: 'html', intact: true });
    expect(html.content).toContain('PT-0042');
    expect(html.content).toContain('patient reports a strong, comfortable sensation');
    const json = await h.must('openReport', { sessionId: 'S1', format: 'json' });
    expect(JSON.parse(json.content)).toMatchObject({ session: { patientRef: 'PT-0042', clinician: 'JD' } });
    expect(await h.call('openReport', { sessionId: 'S9', format: 'md' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });

    const states = snapshots(h).map((s) => s.state).filter((s, i, a) => a[i - 1] !== s);
    expect(states).toEqual(['idle', 'connecting', 'ready', 'screening', 'checking-electrodes', 'ramping', 'running', 'paused', 'ramping', 'running', 'stopped', 'ready']);

    expect(await h.must('disconnect', {})).toBeNull();
    expect(h.service.snapshot.state).toBe('idle');
    expect(snapshots(h).at(-1)!.state).toBe('idle');
  });

  it('completes a short user protocol; a damaged journal is listed as not intact', async () => {
    const h = make();
    await h.must('setSettings', { clinician: 'JD' });
    const file = kneeFile();
    const phases = file.phases as Record<string, unknown>[];
    await h.must('saveProtocol', { file: { ...file, id: 'short-knee', name: 'Short knee', phases: [{ ...phases[0], durationMin: 1 }] } });
    await h.must('connect', { path: 'sim' });
    const { template } = await h.must('screeningForm', { protocolId: 'short-knee' });
    const screened = await h.must('submitScreening', { side: 'left', protocolId: 'short-knee', answers: answersFrom(template, 'PT-0007'), acknowledgements: [] });
    expect(screened.status).toBe('cleared');
    await h.must('start', { targetMa: 1 });
    await h.until(() => h.service.snapshot.state === 'completed', 70_000, 'completed', 50);
    expect(h.service.snapshot.elapsedS).toBeCloseTo(60, 1);
    expect(h.service.outputMayBeOn()).toBe(false);

    const [session] = await h.must('listSessions', {});
    expect(session).toMatchObject({ sessionId: 'S1', protocolId: 'short-knee', endReason: 'completed', stimulationS: 60, intact: true });

    // Edit a line in the middle: the chain breaks and the listing says so.
    const journal = path.join(h.dataDir, 'sessions', session!.file);
    const lines = readFileSync(journal, 'utf8').split('\n');
    lines[3] = lines[3]!.replace('"n":3', '"n":3 ');
    writeFileSync(journal, lines.join('\n'));
    const [damaged] = await h.must('listSessions', {});
    expect(damaged!.intact).toBe(false);
    const report = await h.must('openReport', { sessionId: 'S1', format: 'md' });
    expect(report.intact).toBe(false);
    expect(report.content).toContain('PT-0007');
  });

  it('emergencyStop is immediate and needs no UI; dispose e-stops a running session', async () => {
    const h = make();
    await h.must('connect', { path: 'sim' });
    await h.must('setSettings', { clinician: 'JD' });
    const { template } = await h.must('screeningForm', { protocolId: 'knee-oa-periosteal' });
    await h.must('submitScreening', { side: 'left', protocolId: 'knee-oa-periosteal', answers: answersFrom(template, 'PT-0001'), acknowledgements: [] });
    await h.must('start', { targetMa: 1 });
    await h.run(500);
    expect(h.service.outputMayBeOn()).toBe(true);
    const stopping = h.service.emergencyStop('renderer-crash');
    // The state changes before the device even answers.
    expect(h.service.snapshot.state).toBe('stopped');
    expect(await h.drive(stopping)).toEqual({ ok: true, data: null });
    expect(h.service.snapshot.latched).toBe(true);
  });

  it('dispose with output on e-stops first, and records it', async () => {
    const h = make();
    await h.must('connect', { path: 'sim' });
    const { template } = await h.must('screeningForm', { protocolId: 'knee-oa-periosteal' });
    await h.must('submitScreening', { side: 'left', protocolId: 'knee-oa-periosteal', answers: answersFrom(template, 'PT-0001'), acknowledgements: [] });
    await h.must('start', { targetMa: 1 });
    await h.run(500);
    await h.drive(h.service.dispose());
    expect(h.service.outputMayBeOn()).toBe(false);
    const file = readdirSync(path.join(h.dataDir, 'sessions'))[0]!;
    const text = readFileSync(path.join(h.dataDir, 'sessions', file), 'utf8');
    expect(text).toContain('"source":"shutdown"');
    // A disposed service refuses to connect, but still answers.
    expect(await h.call('connect', { path: 'sim' })).toMatchObject({ ok: false, error: { code: 'ILLEGAL_STATE' } });
  });
});

describe('ControllerService: settings', () => {
  it('validates the clinician as the journal will record it', async () => {
    const h = make();
    expect(await h.must('getSettings', {})).toMatchObject({ clinician: '' });
    const spaced = await h.call('setSettings', { clinician: 'John Doe' });
    expect(spaced).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', details: [{ path: 'clinician' }] } });
    const usb = await h.call('setSettings', { usbIds: ['nope'] });
    expect(usb).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(await h.must('setSettings', { clinician: 'J.D.' })).toMatchObject({ clinician: 'J.D.' });
    expect(JSON.parse(readFileSync(path.join(h.dataDir, 'settings.json'), 'utf8'))).toMatchObject({ clinician: 'J.D.' });
  });

  it('a corrupt settings file is reported, kept as settings.json.bad and replaced by the defaults', async () => {
    const first = make();
    writeFileSync(path.join(first.dataDir, 'settings.json'), '{"clinician": 42');
    const h = make({ dataDir: first.dataDir });
    expect(h.service.problems).toHaveLength(1);
    expect(h.service.problems[0]).toMatch(/settings\.json is invalid.*settings\.json\.bad/);
    expect(readFileSync(path.join(h.dataDir, 'settings.json.bad'), 'utf8')).toBe('{"clinician": 42');
    expect(await h.must('getSettings', {})).toMatchObject({ clinician: '', usbIds: expect.arrayContaining(['0403:6001']) as unknown });
    expect(existsSync(path.join(h.dataDir, 'settings.json'))).toBe(true);
    const again = make({ dataDir: first.dataDir });
    expect(again.service.problems).toEqual([]);
  });
});
