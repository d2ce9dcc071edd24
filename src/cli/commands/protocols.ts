// `edn protocols [--json]` lists the built-in library; `edn protocols show ID|FILE [--json]` shows one
// protocol with its computed charge per phase, charge density, Shannon k, RMS density and energy at
// maxMa, each against its limit.
import {
  BUILT_INS,
  type Figure,
  type Protocol,
  type ProtocolError,
  UNIT_SYMBOL,
  describePattern,
  describeSchedule,
  formatNumber,
  phaseFigures,
  totalDurationMin,
  withUnit,
} from '../../domain/index.js';
import { type CliIO, type Command, EXIT, UsageError, parse, write } from '../command.js';
import { humanReport, loadProtocolArg } from './validate.js';

const USAGE = [
  'Usage: edn protocols [--json]',
  '       edn protocols show ID|FILE [--json]',
  '',
  'Without arguments: the built-in protocol library (id, duration, maximum amplitude, hash, name).',
  'show: one protocol in full: electrode, channels, phases, and per phase at its maxMa the charge',
  'per phase, charge density, Shannon k, RMS current density and energy per pulse against their',
  'limits; then its sources with the values they verify and the defaults the clinician confirms.',
  'ID is a built-in id; a path (containing "/" or ending in .json) is read and validated.',
  '',
  '  --json   machine-readable output (one JSON document)',
].join('\n');

function listHuman(): string {
  const rows = BUILT_INS.map((b) => [b.id, `${formatNumber(totalDurationMin(b.protocol))} min`, `max ${maxMa(b.protocol)} mA`, b.hash.slice(0, 12), b.protocol.name]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i < 4 ? cell.padEnd(widths[i]!) : cell)).join('  ')).join('\n');
}

function maxMa(p: Protocol): string {
  return formatNumber(Math.max(...p.phases.map((ph) => ph.amplitude.maxMa)));
}

function listJson(): string {
  return JSON.stringify(
    BUILT_INS.map((b) => ({
      id: b.id,
      name: b.protocol.name,
      indication: b.protocol.indication,
      durationMin: totalDurationMin(b.protocol),
      hash: b.hash,
      file: b.fileName,
    })),
  );
}

function figureLine(f: Figure): string {
  const decimals = f.key === 'shannonK' ? 2 : 3;
  const value = withUnit(f.value, f.unit, decimals);
  const symbol = UNIT_SYMBOL[f.unit];
  const limit = f.limit === undefined ? '' : `  (${f.limit}${symbol ? ` ${symbol}` : ''})`;
  const status = f.status === 'info' ? '' : `  ${f.status.toUpperCase()}`;
  return `    ${f.label.padEnd(30)} ${value}${limit}${status}`;
}

function showHuman(p: Protocol, warnings: readonly ProtocolError[]): string {
  const e = p.electrode;
  const lines = [
    `${p.id}: ${p.name}`,
    `indication: ${p.indication}`,
    ...(p.schedule ? [`schedule: ${describeSchedule(p.schedule)}`] : []),
    `sha256: ${p.hash}`,
    `electrode: needle ${formatNumber(e.diameterMm)} x ${formatNumber(e.insertedLengthMm)} mm inserted`,
    'channels:',
    ...p.channels.map((c) => `  ${c.channel}  ${c.region} (${c.side}): ${c.sites.join('; ')}`),
  ];
  p.phases.forEach((ph, i) => {
    const f = phaseFigures(p, i);
    lines.push(
      `phase ${i + 1} "${ph.name}": ${formatNumber(ph.durationMin)} min, ${describePattern(ph.pattern)}, ${ph.pulseWidthUs} µs per phase, ${ph.waveform}, up to ${withUnit(ph.amplitude.maxMa, 'mA')}, ramp ${withUnit(ph.amplitude.rampMaPerS, 'mA/s')}${ph.amplitude.titration ? `, titration: ${ph.amplitude.titration}` : ''}`,
      `  at maxMa ${withUnit(f.atMa, 'mA')}:`,
      ...f.figures.map(figureLine),
    );
  });
  lines.push('sources:');
  for (const s of p.sources) {
    const ids = [s.doi && `doi ${s.doi}`, s.registry && `registry ${s.registry}`, s.pmcid].filter(Boolean).join(', ');
    lines.push(`  [${s.key}] ${s.citation}${ids ? ` (${ids})` : ''}`);
    lines.push(`    verified from the source: ${s.verified.length ? s.verified.join(', ') : 'nothing'}`);
    if (s.unverified.length) lines.push(`    NOT verified, defaults the clinician confirms: ${s.unverified.join(', ')}`);
    if (s.note) lines.push(`    note: ${s.note}`);
  }
  lines.push(`aftercare: ${p.aftercare}`);
  for (const w of warnings) lines.push(`warning: ${w.path}: ${w.message}`);
  return lines.join('\n');
}

function showJson(p: Protocol, warnings: readonly ProtocolError[]): string {
  const figures = p.phases.map((_, i) => {
    const f = phaseFigures(p, i);
    return { phaseIndex: i, atMa: f.atMa, loadKOhm: f.loadKOhm, ...f.dose, checks: f.figures.filter((x) => x.status !== 'info') };
  });
  return JSON.stringify({ id: p.id, hash: p.hash, protocol: p, figures, warnings });
}

async function show(arg: string, json: boolean, io: CliIO): Promise<number> {
  const loaded = await loadProtocolArg(arg, io);
  if ('unknown' in loaded) {
    write(io.stderr, `edn protocols show: no built-in protocol "${arg}"; built-ins: ${BUILT_INS.map((b) => b.id).join(', ')}`);
    return EXIT.failed;
  }
  if (!loaded.result.ok) {
    write(io.stderr, humanReport(loaded).join('\n'));
    return EXIT.failed;
  }
  const { protocol, warnings } = loaded.result;
  write(io.stdout, json ? showJson(protocol, warnings) : showHuman(protocol, warnings));
  return EXIT.ok;
}

export const protocolsCommand: Command = {
  name: 'protocols',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { json: { type: 'boolean', default: false } });
    const [sub, ...rest] = positionals;
    if (sub === undefined) {
      write(io.stdout, values.json ? listJson() : listHuman());
      return EXIT.ok;
    }
    if (sub !== 'show') throw new UsageError(`unknown subcommand "${sub}" (only "show")`);
    const [id, ...extra] = rest;
    if (id === undefined || extra.length > 0) throw new UsageError('show takes exactly one protocol id or file');
    return show(id, values.json, io);
  },
};
