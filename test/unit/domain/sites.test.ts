// Where a channel's needles go (issue 9 item 8): the region label alone used to decide, so a
// `shoulder` channel on the `midline` with sites over the chest validated. Now the side must fit
// the region, a site is one of its region's listed sites, free text is only a note beside one,
// and text naming a forbidden area is refused, in the file, in screening, and in the JSON Schema.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUILT_INS, BUILT_IN_FILES } from '../../../src/domain/protocols/library/index.js';
import { protocolJsonSchema } from '../../../src/domain/protocols/schema.js';
import {
  ALL_SITES,
  FORBIDDEN_REGIONS,
  MIDLINE_REGIONS,
  REGIONS,
  REGION_SITES,
  SIDES,
  SITE_NAME_MAX,
  SITE_NOTE_MAX,
  type SiteEntry,
  forbiddenAreaNamed,
  placementProblems,
  siteText,
} from '../../../src/domain/protocols/sites.js';
import { formatProtocolError, validateProtocol } from '../../../src/domain/protocols/validate.js';
import { type ScreenedProtocol, evaluateScreening, screeningTemplate } from '../../../src/domain/screening.js';

const base = () => JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../fixtures/protocols/valid/base.json'), 'utf8')) as { channels: Record<string, unknown>[] } & Record<string, unknown>;

/** The base fixture with its first channel replaced. */
function withChannel(channel: Record<string, unknown>) {
  const file = base();
  file.channels[0] = { channel: 1, ...channel };
  return validateProtocol(file);
}

function errorsOf(r: ReturnType<typeof validateProtocol>): string[] {
  return r.ok ? [] : r.errors.map(formatProtocolError);
}

describe('H25 the attacks of issue 9 item 8 are refused', () => {
  it('a shoulder channel on the midline with sites over the chest: the side and the site, each with the path, the value and why', () => {
    const r = withChannel({ region: 'shoulder', side: 'midline', sites: ['left/right pectoralis major (anterior chest)'] });
    expect(r.ok).toBe(false);
    expect(errorsOf(r)).toEqual([
      expect.stringMatching(/^channels\[0\]\.side: "midline" is not a side of the shoulder: .*would cross the trunk \(between the shoulders, the chest and heart\)/),
      expect.stringMatching(/^channels\[0\]\.sites\[0\]: "left\/right pectoralis major \(anterior chest\)" names the chest or heart \("pectoralis"\): no current path across the thorax and heart \[docs\/CLINICAL\.md#forbidden-regions; IEC 60601-2-10/),
    ]);
  });

  it('a posterior-neck channel with a site over the carotid sinus', () => {
    const r = withChannel({ region: 'posterior-neck', side: 'left', sites: ['upper trapezius', 'anterior neck over the carotid sinus'] });
    expect(errorsOf(r)).toEqual([expect.stringMatching(/^channels\[0\]\.sites\[1\]: "anterior neck over the carotid sinus" names the front of the neck \("anterior neck"\)/)]);
  });

  it('the same words as a note beside a listed site', () => {
    const r = withChannel({ region: 'shoulder', side: 'left', sites: ['supraspinatus', { site: 'infraspinatus', note: 'then over to the pecs' }] });
    expect(errorsOf(r)).toEqual([expect.stringMatching(/^channels\[0\]\.sites\[1\]\.note: "then over to the pecs" names the chest or heart \("pecs"\)/)]);
  });
});

describe('the side must fit the region', () => {
  it.each(REGIONS.filter((r) => !FORBIDDEN_REGIONS.includes(r)).flatMap((region) => SIDES.map((side) => [region, side] as const)))('%s / %s', (region, side) => {
    const problems = placementProblems({ region, side, sites: [REGION_SITES[region][0]!] });
    const midlineRefused = side === 'midline' && !MIDLINE_REGIONS.includes(region);
    expect(problems.map((p) => p.path.join('.'))).toEqual(midlineRefused ? ['side'] : []);
  });

  it('allows midline only on the spine and trunk wall', () => {
    expect([...MIDLINE_REGIONS].sort()).toEqual(['abdomen', 'low-back', 'pelvis', 'posterior-neck', 'upper-back']);
  });
});

describe('the site vocabulary', () => {
  it('gives every allowed region its sites, and the forbidden regions none', () => {
    for (const region of REGIONS) expect(REGION_SITES[region].length === 0).toBe(FORBIDDEN_REGIONS.includes(region));
  });

  it('lists each site once per region, short enough for the journal with a note, and naming no forbidden area', () => {
    for (const region of REGIONS) {
      const sites = REGION_SITES[region];
      expect(new Set(sites).size, region).toBe(sites.length);
      for (const site of sites) {
        expect(site.length, site).toBeLessThanOrEqual(SITE_NAME_MAX);
        expect(forbiddenAreaNamed(site), site).toBeUndefined();
        // The longest note still fits the journal's 120 characters per site.
        expect(siteText({ site, note: 'x'.repeat(SITE_NOTE_MAX) }).length).toBeLessThanOrEqual(120);
      }
    }
  });

  it('holds every built-in site, and the built-ins use it', () => {
    for (const [name, json] of Object.entries(BUILT_IN_FILES)) {
      const channels = (json as { channels: { region: (typeof REGIONS)[number]; sites: SiteEntry[] }[] }).channels;
      for (const c of channels) for (const s of c.sites) expect(REGION_SITES[c.region], `${name}: ${JSON.stringify(s)}`).toContain(typeof s === 'string' ? s : s.site);
    }
  });

  it('refuses free text as a site, suggesting the listed one it resembles', () => {
    expect(errorsOf(withChannel({ region: 'knee', side: 'left', sites: ['Medial Joint Line'] }))).toEqual([expect.stringContaining('"Medial Joint Line" is not a listed site of the knee (did you mean "medial joint line"?)')]);
    expect(errorsOf(withChannel({ region: 'knee', side: 'left', sites: ['medial joint line, 2 cm above'] }))[0]).toContain('anything more goes in a note beside it, {"site": "medial tibial plateau (periosteum)", "note": "..."}');
  });

  it('keeps a note beside its site in what the session, journal and report show', () => {
    const back = BUILT_INS.find((b) => b.id === 'low-back-mtrp')!.protocol;
    expect(back.channels[1]!.sites).toEqual(['lumbar multifidus — active trigger point', 'lumbar multifidus — one segment below the first needle']);
  });
});

describe('free text naming a forbidden area', () => {
  it.each([
    ['over the sternum', 'the chest or heart'],
    ['toward the HEART', 'the chest or heart'],
    ['2 cm below the clavicle, infraclavicular', 'the chest or heart'],
    ['near the carotid pulse', 'the front of the neck'],
    ['sternocleidomastoid border', 'the front of the neck'],
    ['at the temple', 'the head, face or eyes'],
    ['just under the eye', 'the head, face or eyes'],
    ['forehead', 'the head, face or eyes'],
    ['across the head', 'the head, face or eyes'],
  ])('"%s" names %s', (text, area) => {
    expect(forbiddenAreaNamed(text)?.area).toBe(area);
  });

  it.each(['medial head', 'lateral heads, proximal', 'head of the fibula, 2 cm below', 'long head', 'facet joint', 'surface landmark', 'thoracic paraspinals', 'near the spinous process'])('"%s" is anatomy, not a forbidden area', (text) => {
    expect(forbiddenAreaNamed(text)).toBeUndefined();
  });

  it('is found whatever the case and whatever surrounds it (property)', () => {
    const word = fc.constantFrom('chest', 'heart', 'carotid', 'throat', 'eye', 'face', 'head', 'sternum', 'larynx', 'scalp');
    // Harmless words around it (random letters could spell an exception such as "long head").
    const filler = fc.array(fc.constantFrom('near', 'the', '2 cm', 'above', 'below,', 'needle', '(deep)', 'then', 'angled', 'towards', '-'), { maxLength: 4 }).map((w) => w.join(' '));
    fc.assert(
      fc.property(filler, word, filler, fc.boolean(), (before, w, after, upper) => {
        const text = `${before} ${upper ? w.toUpperCase() : w} ${after}`;
        const r = withChannel({ region: 'knee', side: 'left', sites: [{ site: 'medial joint line', note: text.slice(0, SITE_NOTE_MAX) }] });
        // The word may be cut at the note's length limit; when it is whole, the note is refused.
        if (!text.slice(0, SITE_NOTE_MAX).toLowerCase().includes(` ${w} `)) return;
        expect(errorsOf(r).some((e) => e.startsWith('channels[0].sites[0].note:') && e.includes('names the'))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('screening re-checks the placement (defence in depth)', () => {
  const answersFor = (p: ScreenedProtocol) => {
    const t = screeningTemplate(p);
    const no = <T extends Record<string, unknown>>(o: T) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? false : v])) as T;
    return { ...t, patientRef: 'PT-0042', answers: no(t.answers), sites: t.sites.map(no) };
  };
  const evaluate = (p: ScreenedProtocol) => evaluateScreening(answersFor(p), { protocol: p, acknowledgements: [] });

  it('blocks a midline shoulder channel and a site naming the chest, even if the protocol never went through validation', () => {
    const p: ScreenedProtocol = { id: 'x', hash: 'a'.repeat(64), channels: [{ region: 'shoulder', side: 'midline', sites: ['pectoralis major'] }] };
    const r = evaluate(p);
    expect(!r.ok && r.blocking.map((f) => [f.id, f.path, f.kind])).toEqual([
      ['side@shoulder/midline', 'channels[0].side', 'absolute'],
      ['site@shoulder/0', 'channels[0].sites[0]', 'absolute'],
    ]);
  });

  it('clears every built-in', () => {
    for (const b of BUILT_INS) expect(evaluate(b.protocol).ok, b.id).toBe(true);
  });
});

describe('the JSON Schema for editors', () => {
  it('offers the listed sites, as a name or with a note', () => {
    const schema = protocolJsonSchema() as { properties: { channels: { items: { properties: { sites: { items: { anyOf: Record<string, unknown>[] } } } } } } };
    const [name, withNote] = schema.properties.channels.items.properties.sites.items.anyOf;
    expect(name!.enum).toEqual(ALL_SITES);
    expect(withNote).toMatchObject({ type: 'object', required: ['site', 'note'], additionalProperties: false });
    expect((withNote!.properties as { site: { enum: unknown } }).site.enum).toEqual(ALL_SITES);
  });
});
