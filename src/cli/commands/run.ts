/**
 * `edn run`: a whole session headless, for bench testing and device bring-up. The same runner the
 * app uses, on real time, with a journal in the data directory. SIGINT or SIGTERM is an e-stop.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { distinctUntilChanged, map } from 'rxjs';
import { NPRS_ID, builtInInstrument, recordOutcome } from '../../domain/outcomes/index.js';
import { formatProtocolError } from '../../domain/protocols/index.js';
import { type Acknowledgement, evaluateScreening, parseScreeningAnswers } from '../../domain/screening.js';
import { DeviceClient } from '../../device/client.js';
import { openTransport, type OpenedTransport } from '../../device/open.js';
import { SIMULATOR_PATH } from '../../device/ports.js';
import { monotonicScheduler } from '../../device/time.js';
import type { CourseStore } from '../../course/index.js';
import { type RecordDataInput, openJournal, systemClock } from '../../session/journal.js';
import { SessionRunner, type SessionSnapshot } from '../../session/runner.js';
import { TERMINAL_STATES } from '../../session/states.js';
import { readSettingsFile, settingsPatientRefRule } from '../../app/settings.js';
import { type CliIO, type Command, UsageError, parse, write } from '../command.js';
import { loadProtocolArg } from './validate.js';

/** Exit codes of `edn run` (README, "The command line"). */
export const RUN_EXIT = {
  completed: 0,
  /** Refused before any output: invalid protocol, screening, target or electrodes. */
  refused: 1,
  usage: 2,
  /** Stopped: e-stop (Ctrl-C, SIGTERM) or a clinician stop. */
  stopped: 3,
  /** Aborted: fault, disconnection, reboot, watchdog, lost heartbeat, journal failure. */
  aborted: 4,
} as const;

const USAGE = `Usage: edn run (--port PATH | --sim) --protocol ID|FILE --screening FILE --target-ma N
               [--data-dir DIR] [--ack ID --clinician ID]... [--json]
               [--course COURSE --nprs-before N [--nprs-after N]]

Run a whole session headless (bench testing, device bring-up): connect, check the electrodes,
start, raise the amplitude to --target-ma at the protocol's ramp (never above 1 mA/s), run every
phase, stop. A target above the protocol's maximum is refused before anything is sent.
Ctrl-C (SIGINT) or SIGTERM is an emergency stop.

Options:
  --port PATH         serial port of the stimulator (see 'edn ports')
  --sim               the in-process simulated stimulator
  --protocol ID|FILE  a built-in protocol id (see 'edn protocols') or a protocol file
  --screening FILE    screening answers (start from 'edn screening-template --protocol ID')
  --target-ma N       amplitude to titrate to, mA
  --ack ID            acknowledge a relative contraindication by its id (repeatable)
  --clinician ID      who acknowledges and runs the session (initials or staff id)
  --data-dir DIR      where session journals go (default $EDN_DATA_DIR, else
                      ~/.local/share/edn-controller); the journal is DIR/sessions/*.jsonl;
                      DIR/settings.json may set the clinic's patient reference rule
  --course COURSE     a session of this treatment course (see 'edn courses'): the course
                      must be the screening's patient's, on this protocol, and not closed;
                      the session is recorded in its journal and in DIR/courses.db
  --nprs-before N     the patient's pain now, NPRS 0-10, before stimulation (with --course)
  --nprs-after N      the pain after the session, NPRS 0-10 (with --course)
  --json              one JSON object per line per event instead of a progress bar
  -h, --help          this text

Exit codes: 0 completed, 1 refused before output, 2 usage, 3 stopped (e-stop), 4 aborted.`;

export function defaultDataDir(env: CliIO['env']): string {
  if (env.EDN_DATA_DIR) return env.EDN_DATA_DIR;
  const base = env.XDG_DATA_HOME ?? path.join(env.HOME ?? os.homedir(), '.local', 'share');
  return path.join(base, 'edn-controller');
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run a whole session headless on a port or the simulator',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      port: { type: 'string' },
      sim: { type: 'boolean' },
      protocol: { type: 'string' },
      screening: { type: 'string' },
      'target-ma': { type: 'string' },
      'data-dir': { type: 'string' },
      ack: { type: 'string', multiple: true },
      clinician: { type: 'string' },
      json: { type: 'boolean' },
      course: { type: 'string' },
      'nprs-before': { type: 'string' },
      'nprs-after': { type: 'string' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (Boolean(values.port) === Boolean(values.sim)) throw new UsageError('give exactly one of --port PATH or --sim');
    if (!values.protocol) throw new UsageError('--protocol is required');
    if (!values.screening) throw new UsageError('--screening is required');
    if (values['target-ma'] === undefined) throw new UsageError('--target-ma is required');
    const targetMa = Number(values['target-ma']);
    if (!Number.isFinite(targetMa) || targetMa < 0) throw new UsageError(`--target-ma must be a number of mA, not '${values['target-ma']}'`);
    if ((values.ack?.length ?? 0) > 0 && !values.clinician) throw new UsageError('--ack needs --clinician (who acknowledges)');
    if (values.course === undefined && (values['nprs-before'] !== undefined || values['nprs-after'] !== undefined)) throw new UsageError('--nprs-before and --nprs-after need --course (outcomes belong to a course)');
    if (values.course !== undefined && values['nprs-before'] === undefined) throw new UsageError("--course needs --nprs-before (the patient's pain now, 0-10)");
    const nprsBefore = values['nprs-before'] === undefined ? undefined : nprsOutcome('before', values['nprs-before']);
    const nprsAfter = values['nprs-after'] === undefined ? undefined : nprsOutcome('after', values['nprs-after']);

    const out = reporter(io, values.json ?? false);
    const refuse = (message: string): number => {
      out.event({ event: 'refused', message });
      return RUN_EXIT.refused;
    };

    // Everything that can be refused is refused before a port is opened.
    const loaded = await loadProtocolArg(values.protocol, io);
    if ('unknown' in loaded) return refuse(`unknown protocol '${loaded.unknown}' (see 'edn protocols', or give a file path)`);
    if (!loaded.result.ok) return refuse(`protocol ${loaded.file} is invalid:\n${loaded.result.errors.map(formatProtocolError).join('\n')}`);
    const protocol = loaded.result.protocol;
    const first = protocol.phases[0]!;
    if (targetMa > first.amplitude.maxMa) return refuse(`--target-ma ${targetMa} mA is above ${first.amplitude.maxMa} mA, the maximum of phase '${first.name}' of ${protocol.id}`);

    let answersJson: unknown;
    try {
      answersJson = JSON.parse(await readFile(path.resolve(io.cwd, values.screening), 'utf8'));
    } catch (e) {
      return refuse(`cannot read the screening file ${values.screening}: ${e instanceof Error ? e.message : String(e)}`);
    }
    // The clinic's rule for patient references comes from the data directory's settings.json.
    const dataDir = path.resolve(io.cwd, values['data-dir'] ?? defaultDataDir(io.env));
    const settings = readSettingsFile(dataDir);
    if (settings.problem) out.event({ event: 'warning', message: settings.problem });
    const answers = parseScreeningAnswers(answersJson, { patientRefRule: settingsPatientRefRule(settings.settings) });
    for (const w of answers.warnings) out.event({ event: 'warning', message: `screening file ${values.screening}: ${w.path}: ${w.message}` });
    if (!answers.ok) return refuse(`screening file ${values.screening} is invalid:\n${answers.errors.map((e) => `${e.path}: ${e.message}`).join('\n')}`);
    const at = new Date().toISOString();
    const acks: Acknowledgement[] = (values.ack ?? []).map((id) => ({ id, by: values.clinician!, at }));
    const outcome = evaluateScreening(answers.answers, { protocol, acknowledgements: acks });
    if (!outcome.ok) {
      const lines = [...outcome.blocking, ...outcome.pending].map((f) => `${f.path}: ${f.kind}: ${f.message}${f.kind === 'relative' ? ` (acknowledge with --ack ${f.id})` : ''}`);
      return refuse(`screening does not clear this patient (${outcome.status}):\n${lines.join('\n')}`);
    }

    // A session of a course: the course store is opened before the port (one writer while the
    // session runs), and the course must fit the session before anything is sent.
    let store: CourseStore | undefined;
    if (values.course !== undefined) {
      const { CourseStore, courseFitProblem } = await import('../../course/index.js');
      const opened = CourseStore.open(dataDir);
      if (!opened.ok) return refuse(`the course store cannot be opened: ${opened.error.message}`);
      store = opened.store;
      const course = store.getCourse(values.course);
      const problem = course === undefined ? `no course ${values.course} (see 'edn courses')` : courseFitProblem(course, outcome.cleared.patientRef, protocol.id);
      if (problem !== undefined) {
        store.close();
        return refuse(problem);
      }
    }

    let opened: OpenedTransport;
    try {
      opened = await openTransport(values.sim ? SIMULATOR_PATH : values.port!, monotonicScheduler);
    } catch (e) {
      return refuse(e instanceof Error ? e.message : String(e));
    }
    const client = new DeviceClient({ transport: opened.transport, scheduler: monotonicScheduler });
    const runner = new SessionRunner({
      client,
      scheduler: monotonicScheduler,
      recorder: (sessionId) => openJournal({ dataDir, sessionId, clock: systemClock }),
    });
    const subs = [
      runner.snapshot$.pipe(map((s) => s.state), distinctUntilChanged()).subscribe((state) => out.event({ event: 'state', state })),
      runner.snapshot$.subscribe((s) => out.progress(s)),
    ];
    let estopping: Promise<unknown> | undefined;
    const onSignal = (): void => {
      estopping = runner.estop('signal');
    };
    io.signals?.addEventListener('abort', onSignal, { once: true });
    const finish = async (code: number): Promise<number> => {
      io.signals?.removeEventListener('abort', onSignal);
      // The e-stop ends the session's record once the device confirms it: let it.
      if (estopping) await estopping;
      for (const s of subs) s.unsubscribe();
      runner.dispose();
      client.dispose();
      await opened.close();
      store?.close();
      out.done();
      return code;
    };

    const connected = await runner.connect();
    if (!connected.ok) {
      out.event({ event: 'end', reason: 'aborted', detail: connected.error.message });
      return finish(RUN_EXIT.aborted);
    }
    out.event({ event: 'device', model: connected.value.model, firmware: connected.value.firmware, serial: connected.value.serial, bootId: connected.value.bootId });
    const prepared = runner.prepare({ protocol, ...(values.clinician ? { clinician: values.clinician } : {}) });
    if (!prepared.ok) return finish(refuse(prepared.error.message));
    const screened = await runner.submitScreening(outcome.cleared);
    if (!screened.ok) return finish(refuse(screened.error.message));
    if (store !== undefined && values.course !== undefined) {
      const { sessionId, journal } = runner.snapshot;
      const began = sessionId !== undefined && journal !== undefined ? store.beginSession(values.course, sessionId, journal, { id: protocol.id, hash: protocol.hash }) : undefined;
      if (!began?.ok) {
        runner.newSession();
        return finish(refuse(`the session cannot join course ${values.course}: ${began ? began.error.message : 'no session journal is open'}`));
      }
      for (const [type, data] of [['course', began.value.record], ['outcome', nprsBefore!]] as const) {
        const written = runner.recordCourse(type, data);
        if (!written.ok) {
          runner.newSession();
          return finish(refuse(written.error.message));
        }
      }
      out.event({ event: 'course', courseId: values.course, sessionNumber: began.value.number, milestone: began.value.milestone });
    }
    out.event({ event: 'electrodes', results: screened.value, ...(runner.snapshot.journal ? { journal: runner.snapshot.journal } : {}) });
    const bad = screened.value.filter((e) => !e.ok);
    if (bad.length > 0) {
      runner.newSession();
      return finish(refuse(bad.map((e) => e.reason).join('\n')));
    }
    if (io.signals?.aborted) return finish(RUN_EXIT.stopped);
    const started = await runner.start({ targetMa });
    if (!started.ok && runner.state === 'checking-electrodes') return finish(refuse(started.error.message));

    const end = await new Promise<SessionSnapshot>((resolve) => {
      const sub = runner.snapshot$.subscribe((s) => {
        if (TERMINAL_STATES.has(s.state)) {
          queueMicrotask(() => sub.unsubscribe());
          resolve(s);
        }
      });
    });
    const reason = end.state as 'completed' | 'stopped' | 'aborted';
    out.event({ event: 'end', reason, ...(end.reason ? { detail: end.reason } : {}), stimulationS: end.elapsedS, ...(end.journal ? { journal: end.journal } : {}) });
    if (store !== undefined && end.journal !== undefined) {
      // After the end record: the journal stays open for the after-session answers.
      if (nprsAfter !== undefined) {
        const written = runner.recordCourse('outcome', nprsAfter);
        if (!written.ok) out.event({ event: 'warning', message: `NPRS after not recorded: ${written.error.message}` });
      }
      runner.newSession(); // closes the journal, so the store reads it whole
      const recorded = store.recordSession(end.journal);
      if (!recorded.ok) out.event({ event: 'warning', message: `the course store did not record the session (its journal has it; 'edn courses rebuild' recovers it): ${recorded.error.message}` });
    }
    return finish(RUN_EXIT[reason]);
  },
};

/** An NPRS 0-10 answer as an outcome record, or a usage error naming the option. */
function nprsOutcome(timepoint: 'before' | 'after', text: string): RecordDataInput<'outcome'> {
  const nprs = builtInInstrument(NPRS_ID)!;
  const value = Number(text);
  const r = recordOutcome(nprs, { scores: { score: text.trim() === '' ? Number.NaN : value } });
  if (!r.ok) throw new UsageError(`--nprs-${timepoint} ${text}: ${r.problems.map((p) => p.message).join('; ')}`);
  return { timepoint, ...r.value, scores: { ...r.value.scores } } as RecordDataInput<'outcome'>;
}

/** Progress for people (a bar on a terminal) or one JSON object per line. */
function reporter(io: CliIO, json: boolean) {
  const tty = !json && (io.stdout as { isTTY?: boolean }).isTTY === true;
  let lastAmps = '';
  let bar = false;
  return {
    event(e: Record<string, unknown> & { event: string }): void {
      if (json) {
        write(io.stdout, JSON.stringify(e));
        return;
      }
      if (bar) {
        io.stdout.write('\n');
        bar = false;
      }
      if (e.event === 'state') write(io.stdout, `state: ${String(e.state)}`);
      else if (e.event === 'refused') write(io.stderr, `refused: ${String(e.message)}`);
      else if (e.event === 'warning') write(io.stderr, `warning: ${String(e.message)}`);
      else if (e.event === 'end') {
        const detail = typeof e.detail === 'string' ? ` (${e.detail})` : '';
        const journal = typeof e.journal === 'string' ? `\njournal: ${e.journal}` : '';
        write(io.stdout, `end: ${String(e.reason)}${detail}${journal}`);
      }
      else if (e.event === 'device') write(io.stdout, `device: ${String(e.model)} ${String(e.firmware)} serial ${String(e.serial)} boot ${String(e.bootId)}`);
      else if (e.event === 'electrodes') {
        for (const r of e.results as { channel: number; impedanceOhm: number | string; ok: boolean; reason?: string }[]) {
          write(io.stdout, `electrode ch${r.channel}: ${r.impedanceOhm} ohm ${r.ok ? 'ok' : `BLOCKS START: ${r.reason ?? ''}`}`);
        }
      }
    },
    progress(s: SessionSnapshot): void {
      const amps = s.channels.map((c) => `${c.channel}:${c.commandedMa}/${c.targetMa}`).join(' ');
      if (json) {
        if (amps !== lastAmps && s.channels.length > 0) {
          lastAmps = amps;
          write(io.stdout, JSON.stringify({ event: 'amplitude', channels: s.channels.map((c) => ({ channel: c.channel, commandedMa: c.commandedMa, targetMa: c.targetMa, measuredMa: c.measuredMa })) }));
        }
        return;
      }
      if (!tty || !['ramping', 'running', 'paused'].includes(s.state)) return;
      const frac = s.totalS > 0 ? Math.min(1, s.elapsedS / s.totalS) : 0;
      const width = 24;
      const filled = Math.round(frac * width);
      const left = Math.max(0, s.totalS - s.elapsedS);
      const mmss = `${Math.floor(left / 60)}:${String(Math.floor(left % 60)).padStart(2, '0')}`;
      const chans = s.channels.map((c) => `ch${c.channel} ${c.on ? 'ON' : 'off'} ${c.commandedMa.toFixed(1)} mA`).join('  ');
      io.stdout.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${mmss} left  ${s.state.padEnd(8)} ${chans}   `);
      bar = true;
    },
    done(): void {
      if (bar) io.stdout.write('\n');
    },
  };
}
