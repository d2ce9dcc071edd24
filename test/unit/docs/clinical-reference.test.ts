/**
 * docs/CLINICAL.md is part of the product (issue 13 section 3): every citation in the product
 * resolves to one of its headings or references, nothing points outside the repository, and its
 * numbers, protocol tables and screening questions are the code's.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ELECTRODE_IMPEDANCE, HARD_LIMITS, type Limit, OUTPUT_MONITOR } from '../../../src/domain/safety/limits.js';
import { withUnit } from '../../../src/domain/units.js';
import { BUILT_INS, BUILT_IN_FILES } from '../../../src/domain/protocols/library/index.js';
import { protocolEvidence, statusWords } from '../../../src/domain/protocols/evidence.js';
import { FORBIDDEN_REGION_SOURCE } from '../../../src/domain/protocols/schema.js';
import { PATIENT_QUESTIONS, PREGNANCY_QUESTION, SITE_QUESTIONS, type Question } from '../../../src/domain/screening.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const DOC_PATH = 'docs/CLINICAL.md';
const doc = readFileSync(path.join(ROOT, DOC_PATH), 'utf8');

// ---- the reference as anchors, sections and reference keys -----------------------------------------

/**
 * GitHub's heading anchor: lower case, punctuation other than '-' and '_' dropped, spaces to '-'.
 * (Kept here rather than a dependency: the headings are plain words, and this is all of the rule
 * that they need; duplicates, which GitHub would number, are refused below instead.)
 */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

interface Heading {
  readonly level: number;
  readonly text: string;
  readonly anchor: string;
  readonly line: number;
}

const lines = doc.split('\n');
const headings: Heading[] = [];
let inFence = false;
lines.forEach((l, i) => {
  if (l.startsWith('```')) inFence = !inFence;
  const m = !inFence && /^(#{1,6}) (.+)$/.exec(l);
  if (m) headings.push({ level: m[1]!.length, text: m[2]!, anchor: slug(m[2]!), line: i });
});
const anchors = new Set(headings.map((h) => h.anchor));

/** The text of a section: from its heading to the next heading at its level or above. */
function section(anchor: string): string {
  const i = headings.findIndex((h) => h.anchor === anchor);
  const h = headings[i];
  if (!h) throw new Error(`${DOC_PATH} has no section #${anchor}`);
  const end = headings.slice(i + 1).find((x) => x.level <= h.level);
  return lines.slice(h.line, end ? end.line : lines.length).join('\n');
}

/** Reference keys: "- **[KEY]** ..." entries of the References section. */
const referenceKeys = new Set([...section('references').matchAll(/^- \*\*\[([^\]]+)\]\*\*/gm)].map((m) => m[1]!));

/** A reference cited by key, or by key and a clause or detail after it ("IEC 60601-2-10 201.7.9.2.101"). */
function isReference(token: string): boolean {
  return [...referenceKeys].some((k) => token === k || token.startsWith(`${k} `) || token.startsWith(`${k}, `));
}

/** Problems with one citation string: "docs/CLINICAL.md#amplitude; IEC 60601-2-10 201.7.9.2.101". */
function citationProblems(cite: string): string[] {
  const problems: string[] = [];
  for (const part of cite.split(/;\s*/).map((p) => p.trim()).filter(Boolean)) {
    const anchored = /^docs\/CLINICAL\.md#([\w-]+)$/.exec(part);
    if (anchored) {
      if (!anchors.has(anchored[1]!)) problems.push(`"${part}": ${DOC_PATH} has no heading #${anchored[1]!}`);
    } else if (!isReference(part)) problems.push(`"${part}" is neither a section of ${DOC_PATH} nor one of its references`);
  }
  return problems;
}

// ---- the product's files -----------------------------------------------------------------------------

const PRODUCT_DIRS = ['src', 'electron', 'firmware-protocol', 'docs'];
const PRODUCT_FILES = ['README.md', 'SAFETY.md', 'eslint.config.js', 'eslint.layering.js', 'package.json', 'electron-builder.yml'];
const TEXT = /\.(ts|js|cjs|mjs|json|md|html|css|yml|yaml|c|h|ld|s|txt)$/;

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(ROOT, dir))) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const rel = `${dir}/${name}`;
    if (statSync(path.join(ROOT, rel)).isDirectory()) out.push(...walk(rel));
    else if (TEXT.test(name)) out.push(rel);
  }
  return out;
}
const productFiles = [...PRODUCT_DIRS.flatMap(walk), ...PRODUCT_FILES];
const read = (rel: string) => readFileSync(path.join(ROOT, rel), 'utf8');

/** Every place a text mentions CLINICAL.md, with what follows it. */
function mentions(text: string): { at: number; anchored: string | undefined; keyed: string | undefined; inDocs: boolean }[] {
  return [...text.matchAll(/CLINICAL\.md/g)].map((m) => {
    const at = m.index;
    const after = text.slice(at + 'CLINICAL.md'.length);
    return {
      at,
      inDocs: text.slice(Math.max(0, at - 5), at) === 'docs/',
      anchored: /^#([\w-]+)/.exec(after)?.[1],
      keyed: /^: ([^\]\n;`"'*]+)/.exec(after)?.[1]?.trim(),
    };
  });
}

describe('citations in the product', () => {
  it('the reference has unique headings and its references section', () => {
    const seen = headings.map((h) => h.anchor);
    expect(seen.filter((a, i) => seen.indexOf(a) !== i)).toEqual([]);
    expect(referenceKeys.size).toBeGreaterThan(10);
  });

  it('nothing in the product points outside the repository (../shared, the team notes)', () => {
    const offenders = productFiles.filter((f) => /\.\.\/shared|shared\/domain/.test(read(f)));
    expect(offenders).toEqual([]);
  });

  it('every mention of CLINICAL.md is docs/CLINICAL.md, and every #anchor and "CLINICAL.md: key" resolves', () => {
    const problems: string[] = [];
    for (const f of productFiles) {
      const text = read(f);
      for (const m of mentions(text)) {
        const where = `${f}:${text.slice(0, m.at).split('\n').length}`;
        if (m.keyed !== undefined) {
          // "CLINICAL.md: amplitude": the key names a section of the reference by its heading.
          if (!headings.some((h) => h.text.toLowerCase() === m.keyed!.toLowerCase() || h.anchor === slug(m.keyed!))) problems.push(`${where}: "CLINICAL.md: ${m.keyed}" names no section of ${DOC_PATH}`);
          if (!m.inDocs) problems.push(`${where}: cite docs/CLINICAL.md, the file the product ships`);
        } else if (!m.inDocs && f !== DOC_PATH) problems.push(`${where}: a bare "CLINICAL.md" (write docs/CLINICAL.md)`);
        else if (m.anchored !== undefined && !anchors.has(m.anchored)) problems.push(`${where}: ${DOC_PATH} has no heading #${m.anchored}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the reference\'s own links to its sections resolve', () => {
    const missing = [...doc.matchAll(/\]\(#([\w-]+)\)/g)].map((m) => m[1]!).filter((a) => !anchors.has(a));
    expect(missing).toEqual([]);
  });

  it('this test catches a citation that resolves to nothing', () => {
    expect(citationProblems('docs/CLINICAL.md#no-such-section')).toHaveLength(1);
    expect(citationProblems('NOSUCHKEY2020')).toHaveLength(1);
    expect(citationProblems('docs/CLINICAL.md#amplitude; IEC 60601-2-10 201.7.9.2.101')).toEqual([]);
    expect(mentions('see [CLINICAL.md: amplitude]')).toMatchObject([{ inDocs: false, keyed: 'amplitude' }]);
    expect(mentions('[docs/CLINICAL.md#frequency]')).toMatchObject([{ inDocs: true, anchored: 'frequency' }]);
  });

  it('bracketed citations in messages and protocol texts resolve: sections and reference keys', () => {
    const problems: string[] = [];
    for (const f of productFiles.filter((x) => x.startsWith('src/') || x.startsWith('electron/'))) {
      for (const m of read(f).matchAll(/\[(docs\/CLINICAL\.md#[^\]]+)\]/g)) problems.push(...citationProblems(m[1]!).map((p) => `${f}: ${p}`));
    }
    // The library's texts cite reference keys in brackets: "[HAN]", "[CUMMINGS2011]".
    for (const [file, json] of Object.entries(BUILT_IN_FILES)) {
      for (const m of JSON.stringify(json).matchAll(/\[([A-Z][A-Z0-9]{2,}(?:; [^\]]+)?)\]/g)) problems.push(...citationProblems(m[1]!).map((p) => `${file}: ${p}`));
    }
    expect(problems).toEqual([]);
  });

  it('every built-in source is a reference of docs/CLINICAL.md', () => {
    const keys = BUILT_INS.flatMap((b) => b.protocol.sources.map((s) => s.key));
    expect(keys.filter((k) => !referenceKeys.has(k))).toEqual([]);
  });

  it('the screening questions and the forbidden regions cite sections and primary sources that exist', () => {
    const questions: Question[] = [...Object.values(PATIENT_QUESTIONS), PREGNANCY_QUESTION, ...Object.values(SITE_QUESTIONS)];
    expect(questions.flatMap((q) => citationProblems(q.source))).toEqual([]);
    expect(citationProblems(FORBIDDEN_REGION_SOURCE)).toEqual([]);
  });
});

// ---- the numbers, the protocols and the questions are the code's ---------------------------------

const LIMITS: readonly Limit[] = [...Object.values(HARD_LIMITS), ...Object.values(ELECTRODE_IMPEDANCE), ...Object.values(OUTPUT_MONITOR)];

describe('docs/CLINICAL.md says what the code does', () => {
  it.each(LIMITS.map((l) => [l.key, l] as const))('%s: its source is a section that states its value and unit', (_, l) => {
    const m = /^docs\/CLINICAL\.md#([\w-]+)$/.exec(l.source);
    expect(m, `${l.key} source "${l.source}"`).not.toBeNull();
    const row = section(m![1]!).split('\n').find((x) => x.startsWith(`| \`${l.key}\` |`));
    expect(row, `a row for ${l.key} in #${m![1]!}`).toBeDefined();
    expect(row!.split(' | ')[1]).toBe(withUnit(l.value, l.unit));
    expect(l.refs.filter((r) => !isReference(r))).toEqual([]);
  });

  it('lists no limit the code does not have', () => {
    const documented = [...section('limits').matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]!);
    expect(documented.sort()).toEqual(LIMITS.map((l) => l.key).sort());
  });

  it.each(BUILT_INS.map((b) => [b.id, b] as const))('%s: the table of values and their status is the protocol\'s', (_, b) => {
    const rows = section(b.id)
      .split('\n')
      .filter((x) => x.startsWith('| ') && !x.startsWith('| value |') && !x.startsWith('|---'));
    const expected = protocolEvidence(b.protocol, { library: true }).values.map((v) => `| ${v.label} | ${v.value ?? ''} | ${statusWords(v.status, v.sources.join(', '), 1)} |`);
    expect(rows).toEqual(expected);
  });

  it('asks the questions screening asks, each under its severity', () => {
    const absolute = section('absolute-contraindications');
    const relative = section('relative-contraindications');
    for (const q of [...Object.values(PATIENT_QUESTIONS), PREGNANCY_QUESTION, ...Object.values(SITE_QUESTIONS)]) {
      expect(q.severity === 'absolute' ? absolute : relative, q.text).toContain(`| ${q.text} |`);
    }
  });
});
