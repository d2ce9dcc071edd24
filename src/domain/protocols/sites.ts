/**
 * Where a channel's needles go: the body regions, the sides, and for each region the sites a
 * channel may name. This is THE place for placement rules (the schema, screening, the JSON
 * Schema and the editor all read them from here).
 *
 * Why a vocabulary and not free text: the forbidden-region rule used to check only the region
 * label, so a channel labelled `shoulder` could name "left/right pectoralis major (anterior
 * chest)" as its sites (a current path across the chest) and validate. A site is now one of its
 * region's listed sites; anything more is a note beside a listed site, and a note that names a
 * forbidden area is refused. The lists hold the built-ins' sites and the sites commonly needled
 * in EDN for each region; they are a design choice of this project (no docs/CLINICAL.md entry) and
 * wait for the clinical lead's review, like the other "design choice" values.
 *
 * Pure: no I/O, no Node imports.
 */
import { editDistance } from './keys.js';

/** Body regions a channel may be placed in (a channel's two needles are both in its region). */
export const REGIONS = [
  'head',
  'face',
  'anterior-neck',
  'posterior-neck',
  'shoulder',
  'upper-back',
  'thorax',
  'abdomen',
  'low-back',
  'pelvis',
  'hip',
  'thigh',
  'knee',
  'leg',
  'ankle-foot',
  'arm',
  'forearm-hand',
] as const;
export type Region = (typeof REGIONS)[number];

/**
 * Regions no channel may use: no current path across the head, over the eyes or mouth, over the
 * front of the neck or carotid sinus, or across the thorax and heart
 * [docs/CLINICAL.md#forbidden-regions; IEC 60601-2-10 201.7.9.2.101].
 */
export const FORBIDDEN_REGIONS: readonly Region[] = ['head', 'face', 'anterior-neck', 'thorax'];
export const FORBIDDEN_REGION_SOURCE = 'docs/CLINICAL.md#forbidden-regions; IEC 60601-2-10 201.7.9.2.101';

/** `affected` is the side chosen for the patient at the session (e.g. the painful knee). */
export const SIDES = ['left', 'right', 'midline', 'affected'] as const;
export type Side = (typeof SIDES)[number];

/**
 * Regions that have a midline: the spine and the trunk wall behind or below the ribs. Only here
 * may a channel's side be `midline` (needles on or either side of the midline). Every other
 * region is paired (a left and a right shoulder, knee, ...): a "midline" channel there would join
 * the two sides of the body, and between the shoulders that path crosses the chest and heart.
 */
export const MIDLINE_REGIONS: readonly Region[] = ['posterior-neck', 'upper-back', 'low-back', 'abdomen', 'pelvis'];

/** Longest listed site name, characters (a site with its note must fit the journal's 120). */
export const SITE_NAME_MAX = 57;
/** Longest note beside a site, characters: " — " and the note after the longest site name fit in 120. */
export const SITE_NOTE_MAX = 60;
/** How a site and its note read in the session, the journal and the report. */
export const SITE_NOTE_SEPARATOR = ' — ';

/**
 * The sites each region may name. A site may be listed in two neighbouring regions (the upper
 * trapezius is needled from the neck and from the shoulder; the distal vastus medialis at the
 * knee). The forbidden regions have none.
 */
export const REGION_SITES: Readonly<Record<Region, readonly string[]>> = {
  head: [],
  face: [],
  'anterior-neck': [],
  thorax: [],
  'posterior-neck': [
    'upper trapezius',
    'levator scapulae',
    'splenius capitis',
    'splenius cervicis',
    'semispinalis capitis',
    'semispinalis cervicis',
    'cervical multifidus',
    'cervical paraspinals (C4-C7)',
    'cervical articular pillar (periosteum)',
  ],
  shoulder: [
    'supraspinatus',
    'infraspinatus',
    'teres minor',
    'teres major',
    'subscapularis',
    'deltoid, anterior fibres',
    'deltoid, middle fibres',
    'deltoid, posterior fibres',
    'upper trapezius',
    'levator scapulae',
    'acromion (periosteum)',
    'spine of the scapula (periosteum)',
    'greater tuberosity of the humerus (periosteum)',
    'long head of biceps tendon (bicipital groove)',
  ],
  'upper-back': [
    'middle trapezius',
    'lower trapezius',
    'rhomboid major',
    'rhomboid minor',
    'latissimus dorsi',
    'thoracic multifidus',
    'thoracic erector spinae (paraspinals)',
    'thoracic spinous process (periosteum)',
  ],
  abdomen: ['rectus abdominis', 'external oblique', 'internal oblique', 'transversus abdominis'],
  'low-back': [
    'quadratus lumborum',
    'iliocostalis lumborum',
    'longissimus thoracis (lumbar part)',
    'lumbar multifidus',
    'lumbar erector spinae (paraspinals)',
    'lumbar facet joint (periosteum)',
    'lumbar spinous process (periosteum)',
  ],
  pelvis: ['sacral multifidus', 'posterior superior iliac spine (periosteum)', 'iliac crest (periosteum)', 'posterior sacroiliac ligament', 'sacrum (periosteum)'],
  hip: ['gluteus maximus', 'gluteus medius', 'gluteus minimus', 'piriformis', 'tensor fasciae latae', 'quadratus femoris', 'greater trochanter (periosteum)'],
  thigh: [
    'vastus medialis',
    'vastus lateralis',
    'vastus intermedius',
    'rectus femoris',
    'adductor longus',
    'adductor magnus',
    'gracilis',
    'sartorius',
    'biceps femoris',
    'semitendinosus',
    'semimembranosus',
    'iliotibial band',
  ],
  knee: [
    'medial tibial plateau (periosteum)',
    'medial femoral condyle (periosteum)',
    'lateral tibial plateau (periosteum)',
    'lateral femoral condyle (periosteum)',
    'adductor tubercle (periosteum)',
    'medial knee, above the joint line',
    'medial knee, below the joint line',
    'lateral knee, above the joint line',
    'lateral knee, below the joint line',
    'medial joint line',
    'lateral joint line',
    'pes anserinus',
    'patellar tendon',
    'quadriceps tendon',
    'medial collateral ligament',
    'vastus medialis',
    'popliteus',
  ],
  leg: [
    'gastrocnemius, medial head',
    'gastrocnemius, lateral head',
    'soleus',
    'soleus, medial border',
    'soleus, lateral border',
    'tibialis anterior',
    'fibularis longus',
    'fibularis brevis',
    'extensor digitorum longus',
    'medial tibial border (periosteum)',
  ],
  'ankle-foot': [
    'medial calcaneal tubercle (plantar fascia origin)',
    'plantar fascia, medial band',
    'abductor hallucis',
    'quadratus plantae',
    'flexor digitorum brevis',
    'abductor digiti minimi (foot)',
    'extensor digitorum brevis',
    'anterior talofibular ligament',
    'sinus tarsi',
    'Achilles tendon insertion (calcaneus)',
  ],
  arm: ['biceps brachii', 'triceps brachii', 'brachialis', 'deltoid insertion'],
  'forearm-hand': [
    'common extensor origin (lateral epicondyle)',
    'common flexor origin (medial epicondyle)',
    'extensor carpi radialis brevis',
    'extensor carpi radialis longus',
    'extensor digitorum',
    'supinator',
    'brachioradialis',
    'pronator teres',
    'flexor carpi radialis',
    'flexor carpi ulnaris',
    'first dorsal interosseous (hand)',
    'adductor pollicis',
    'abductor pollicis brevis',
  ],
};

/** Every listed site once, in region order (the JSON Schema offers these to editors). */
export const ALL_SITES: readonly string[] = [...new Set(REGIONS.flatMap((r) => REGION_SITES[r]))];

/** A channel's site as the file writes it: a listed site, or a listed site with a note beside it. */
export type SiteEntry = string | { readonly site: string; readonly note: string };

export function siteName(entry: SiteEntry): string {
  return typeof entry === 'string' ? entry : entry.site;
}

/** "lumbar multifidus — one segment below": what the session, journal and report show. */
export function siteText(entry: SiteEntry): string {
  return typeof entry === 'string' ? entry : `${entry.site}${SITE_NOTE_SEPARATOR}${entry.note}`;
}

// ---- forbidden areas named in free text -----------------------------------------------------------

/** An area no current path may reach, and the words that name it in a note. */
interface ForbiddenArea {
  /** How the message names it: 'the chest or heart'. */
  readonly area: string;
  readonly why: string;
  readonly words: RegExp;
}

/**
 * Words that name a forbidden area (the same areas as FORBIDDEN_REGIONS). Whole words,
 * case-insensitive. Deliberately broad: a note that merely mentions the chest is refused, and the
 * author writes it without the word. "thoracic" is not here: the thoracic spine is the upper back.
 */
export const FORBIDDEN_AREAS: readonly ForbiddenArea[] = [
  {
    area: 'the chest or heart',
    why: 'no current path across the thorax and heart',
    words:
      /\b(chest|thorax|transthoracic|pectorals?|pectoralis|pecs|stern(um|al)|xiphoid|breasts?|nipples?|heart|cardiac|precordi(al|um)|intercostals?|lungs?|pleura[l]?|infraclavicular|subclavius|serratus anterior)\b/i,
  },
  {
    area: 'the front of the neck',
    why: 'no current path over the front of the neck or the carotid sinus',
    words:
      /\b(carotid|throat|larynx|laryngeal|trachea[l]?|thyroid|hyoid|jugular|vagus|vagal|anterior neck|front of the neck|sternocleidomastoid|scm|scalenes?|supraclavicular|subclavian)\b/i,
  },
  {
    area: 'the head, face or eyes',
    why: 'no current path across the head, over the eyes or mouth',
    words:
      /\b(head|face|facial|eyes?|eyelids?|orbits?|orbital|periorbital|forehead|temples?|scalp|skull|cran(ial|ium)|intracranial|transcranial|transcerebral|brain|cerebral|mouth|lips?|tongue|jaw|mandib(le|ular)|maxilla(ry)?|masseter|temporalis|tmj|temporomandibular|cheeks?|nose|nasal|ears?|occiput|occipital)\b/i,
  },
];

/**
 * Anatomical phrases in which "head" means part of a muscle or bone, not the head: taken out of
 * a note before the forbidden words are looked for.
 */
const NOT_THE_HEAD =
  /\b(medial|lateral|long|short|deep|superficial|oblique|transverse|humeral|femoral|fibular|radial|ulnar|metatarsal|talar)\s+heads?\b|\bheads?\s+of\s+(the\s+)?(fibula|humerus|radius|femur|ulna|talus|metatarsals?|biceps|triceps|gastrocnemius|quadriceps)\b/gi;

/** Words that make a channel join the two sides of the body. */
const CROSSES_MIDLINE =
  /\b(bilateral(ly)?|both sides|left\s*(and|&|\/)\s*right|right\s*(and|&|\/)\s*left|contralateral|opposite side|other side|across the (midline|body)|crossing the midline)\b/i;

/** The forbidden area a piece of free text names, if any (first match). */
export function forbiddenAreaNamed(text: string): { area: string; why: string; word: string } | undefined {
  const cleaned = text.replace(NOT_THE_HEAD, ' ');
  for (const a of FORBIDDEN_AREAS) {
    const m = a.words.exec(cleaned);
    if (m) return { area: a.area, why: a.why, word: m[0] };
  }
  return undefined;
}

// ---- the placement rules ----------------------------------------------------------------------------

/** A placement problem: the path below the channel ("side", "sites[1]", "sites[1].note") and why. */
export interface PlacementProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

function regionWords(region: Region): string {
  return region === 'ankle-foot' ? 'ankle or foot' : region === 'forearm-hand' ? 'forearm or hand' : region.replace(/-/g, ' ');
}

/** Is `midline` allowed in this region? */
export function allowsMidline(region: Region): boolean {
  return MIDLINE_REGIONS.includes(region);
}

/** The region-and-side rule alone (screening re-checks it from a protocol's channels). */
export function sideProblem(region: Region, side: Side): string | undefined {
  if (side !== 'midline' || allowsMidline(region) || FORBIDDEN_REGIONS.includes(region)) return undefined;
  return `"midline" is not a side of the ${regionWords(region)}: both needles of a channel there are on one side (left, right or affected); a channel joining the two sides of the body would cross the trunk (between the shoulders, the chest and heart). "midline" is only for ${MIDLINE_REGIONS.join(', ')} [${FORBIDDEN_REGION_SOURCE}]`;
}

/** Problems with a note beside a listed site. */
export function noteProblem(note: string, region: Region): string | undefined {
  const named = forbiddenAreaNamed(note);
  if (named) return `"${clip(note)}" names ${named.area} ("${named.word}"): ${named.why}; a note describes where on the listed site the needle goes, within the ${regionWords(region)} [${FORBIDDEN_REGION_SOURCE}]`;
  const crossing = allowsMidline(region) ? null : CROSSES_MIDLINE.exec(note);
  if (crossing) return `"${clip(note)}" joins the two sides of the body ("${crossing[0]}"): both needles of a channel on the ${regionWords(region)} are on one side; use one channel per side`;
  return undefined;
}

/** Problems with a site name: not listed for the region (with why, and what to write instead). */
export function siteNameProblem(name: string, region: Region): string | undefined {
  const listed = REGION_SITES[region];
  if (listed.includes(name)) return undefined;
  const named = forbiddenAreaNamed(name);
  if (named) return `"${clip(name)}" names ${named.area} ("${named.word}"): ${named.why} [${FORBIDDEN_REGION_SOURCE}]`;
  if (listed.length === 0) return undefined; // the region itself is refused, with its reason
  const guess = closestSite(name, listed);
  const elsewhere = REGIONS.filter((r) => r !== region && REGION_SITES[r].includes(name));
  const hint = guess ? ` (did you mean "${guess}"?)` : elsewhere.length > 0 ? ` (it is a site of the ${elsewhere.map(regionWords).join(' and the ')}: set the channel's region to match)` : '';
  return `"${clip(name)}" is not a listed site of the ${regionWords(region)}${hint}; write one of: ${listed.map((s) => `"${s}"`).join(', ')}; anything more goes in a note beside it, {"site": "${listed[0]}", "note": "..."}`;
}

/** Every placement problem of a channel, with paths relative to the channel. */
export function placementProblems(channel: { readonly region: Region; readonly side: Side; readonly sites: readonly SiteEntry[] }): PlacementProblem[] {
  const out: PlacementProblem[] = [];
  const side = sideProblem(channel.region, channel.side);
  if (side) out.push({ path: ['side'], message: side });
  channel.sites.forEach((entry, i) => {
    const name = siteNameProblem(siteName(entry), channel.region);
    if (name) out.push({ path: typeof entry === 'string' ? ['sites', i] : ['sites', i, 'site'], message: name });
    if (typeof entry !== 'string') {
      const note = noteProblem(entry.note, channel.region);
      if (note) out.push({ path: ['sites', i, 'note'], message: note });
    }
  });
  return out;
}

/** The closest listed site: the same words in another case, or within a few typing mistakes. */
function closestSite(name: string, listed: readonly string[]): string | undefined {
  const lower = name.trim().toLowerCase();
  const same = listed.find((s) => s.toLowerCase() === lower);
  if (same) return same;
  let best: { site: string; distance: number } | undefined;
  for (const site of listed) {
    const distance = editDistance(lower, site.toLowerCase());
    if (distance <= 3 && (best === undefined || distance < best.distance)) best = { site, distance };
  }
  return best?.site;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}
