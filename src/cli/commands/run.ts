/**
 * `edn run`: a whole session headless, for bench testing and device bring-up. The same runner the
 * app uses, on real time, with a journal in the data directory. SIGINT or SIGTERM is an e-stop.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NPRS_ID, builtInInstrument, recordOutcome } from '../../domain/outcomes/index.js';
import { formatProtocolError } from '../../domain/protocols/index.js';
import { TREATED_SIDES, type TreatedSide, sideChoiceProblem, sideChoices } from '../../domain/protocols/treated-side.js';
import { type Acknowledgement, evaluateScreening, parseScreeningAnswers } from '../../domain/screening.js';
import { SIMULATOR_PATH } from '../../device/ports.js';
import { monotonicScheduler } from '../../device/time.js';
import { courseFitProblem } from '../../course/session.js';
import { TERMINAL_STATES } from '../../session/states.js';
import { createControllerService } from '../../app/assembly.js';
import type { Snapshot } from '../../app/contract.js';
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
               [--side left|right|bilateral] [--data-dir DIR] [--ack ID --clinician ID]... [--json]
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
  --side SIDE         the treated side: left, right, or bilateral where the protocol allows
                      it; required for a protocol with channels on the "affected" side
                      (all built-ins), refused for one whose sides are fixed
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

/** --side: one of the treated sides, or a usage error naming them. */
function sideArg(text: string): TreatedSide {
  const side = TREATED_SIDES.find((s) => s === text);
  if (side === undefined) throw new UsageError(`--side must be one of ${TREATED_SIDES.join(', ')}, not '${text}'`);
  return side;
}

export function defaultDataDir(env: CliIO['env']): string {
  if (env.EDN_DATA_DIR) return env.EDN_DATA_DIR;
  const base = env.XDG_DATA_HOME ?? path.join(env.HOME ?? os.homedir(), '.local', 'share');
  return path.join(base, 'edn-controller');
}

export const runCommand: Command = {
  name: 'run',
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
      side: { type: 'string' },
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
    const side = values.side === undefined ? undefined : sideArg(values.side);
    const nprsBefore = values['nprs-before'] === undefined ? undefined : nprsScore('before', values['nprs-before']);
    const nprsAfter = values['nprs-after'] === undefined ? undefined : nprsScore('after', values['nprs-after']);

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
    const sideRefused = sideChoiceProblem(protocol, side);
    if (sideRefused) return refuse(`${sideRefused.message}${sideRefused.code === 'SIDE_REQUIRED' ? ` (--side ${sideChoices(protocol).join('|')})` : ''}`);
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

    // The same service the app assembles (src/app/assembly.ts), driven through the contract's
    // calls as a UI drives it. It is created only now: a refusal above writes nothing.
    const service = createControllerService(
      { dataDir, allowHardware: true, ...(values.clinician ? { clinician: values.clinician } : {}) },
      { scheduler: monotonicScheduler, protocols: [protocol] },
    );

    // A session of a course: the course must fit the session before a port is opened (the
    // service opens the course store, its one writer, on this first course call).
    if (values.course !== undefined) {
      const prefill = await service.coursePrefill({ courseId: values.course });
      const problem = !prefill.ok
        ? prefill.error.code === 'NOT_FOUND' ? `no course ${values.course} (see 'edn courses')` : `the course store cannot be opened: ${prefill.error.message}`
        : courseFitProblem(prefill.data.course, outcome.cleared.patientRef, protocol.id);
      if (problem !== undefined) {
        await service.dispose();
        return refuse(problem);
      }
    }

    let state: string | undefined;
    const onSnapshot = (s: Snapshot): void => {
      if (s.state !== state) {
        state = s.state;
        out.event({ event: 'state', state: s.state });
      }
      out.progress(s);
    };
    onSnapshot(service.snapshot);
    let ended: ((s: Snapshot) => void) | undefined;
    const off = service.on((e) => {
      if (e.event !== 'snapshot') return;
      onSnapshot(e.data);
      if (TERMINAL_STATES.has(e.data.state)) ended?.(e.data);
    });
    let estopping: Promise<unknown> | undefined;
    const onSignal = (): void => {
      estopping = service.emergencyStop('signal');
    };
    io.signals?.addEventListener('abort', onSignal, { once: true });
    const finish = async (code: number): Promise<number> => {
      io.signals?.removeEventListener('abort', onSignal);
      // The e-stop ends the session's record once the device confirms it: let it.
      if (estopping) await estopping;
      off();
      await service.dispose();
      out.done();
      return code;
    };

    const connected = await service.connect({ path: values.sim ? SIMULATOR_PATH : values.port! });
    if (!connected.ok) {
      // A port that cannot be opened is refused (nothing was sent); a device that does not
      // answer its handshake aborts (something was).
      if (connected.error.message.startsWith('cannot open ')) return finish(refuse(connected.error.message));
      out.event({ event: 'end', reason: 'aborted', detail: connected.error.message });
      return finish(RUN_EXIT.aborted);
    }
    const d = connected.data;
    out.event({ event: 'device', model: d.model, firmware: d.firmware, serial: d.serial, bootId: d.bootId });
    const screened = await service.submitScreening({ protocolId: protocol.id, answers: answersJson, acknowledgements: values.ack ?? [], ...(side === undefined ? {} : { side }) });
    if (!screened.ok) return finish(refuse(screened.error.message));
    if (screened.data.status !== 'cleared') return finish(refuse(`screening does not clear this patient (${screened.data.status})`));
    if (values.course !== undefined) {
      const joined = await service.courseSession({ courseId: values.course, nprsBefore: nprsBefore! });
      if (!joined.ok) {
        await service.newSession();
        return finish(refuse(`the session cannot join course ${values.course}: ${joined.error.message}`));
      }
      out.event({ event: 'course', courseId: values.course, sessionNumber: joined.data.sessionNumber, milestone: joined.data.milestone });
    }
    const journal = service.snapshot.journal;
    out.event({ event: 'electrodes', results: screened.data.electrodes, ...(journal ? { journal } : {}) });
    const bad = screened.data.electrodes.filter((e) => !e.ok);
    if (bad.length > 0) {
      await service.newSession();
      return finish(refuse(bad.map((e) => e.reason).join('\n')));
    }
    if (io.signals?.aborted) return finish(RUN_EXIT.stopped);
    const end = new Promise<Snapshot>((resolve) => {
      ended = resolve;
    });
    const started = await service.start({ targetMa });
    if (!started.ok && !TERMINAL_STATES.has(service.snapshot.state)) return finish(refuse(started.error.message));

    const last = await end;
    const reason = last.state as 'completed' | 'stopped' | 'aborted';
    out.event({ event: 'end', reason, ...(last.reason ? { detail: last.reason } : {}), stimulationS: last.elapsedS, ...(last.journal ? { journal: last.journal } : {}) });
    if (values.course !== undefined) {
      // Behind the end record: the journal stays open for the after-session answers.
      const after = await service.courseOutcomes(nprsAfter === undefined ? {} : { nprsAfter });
      if (!after.ok) out.event({ event: 'warning', message: `the after-session answers were not recorded in the course (its journal has the session; 'edn courses rebuild' recovers it): ${after.error.message}` });
      await service.newSession(); // closes the journal
    }
    return finish(RUN_EXIT[reason]);
  },
};

/** An NPRS 0-10 answer, checked on the built-in instrument, or a usage error naming the option. */
function nprsScore(timepoint: 'before' | 'after', text: string): number {
  const nprs = builtInInstrument(NPRS_ID)!;
  const value = text.trim() === '' ? Number.NaN : Number(text);
  const r = recordOutcome(nprs, { scores: { score: value } });
  if (!r.ok) throw new UsageError(`--nprs-${timepoint} ${text}: ${r.problems.map((p) => p.message).join('; ')}`);
  return value;
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
    progress(s: Snapshot): void {
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
