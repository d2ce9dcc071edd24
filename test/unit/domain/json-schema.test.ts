// The exported JSON Schemas: well-formed draft 2020-12, and the built-ins conform to them. The
// validator below covers the keywords zod emits; it is deliberately small and independent of zod.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILT_IN_FILES } from '../../../src/domain/protocols/library/index.js';
import { protocolJsonSchema } from '../../../src/domain/protocols/schema.js';
import { screeningJsonSchema, screeningTemplate } from '../../../src/domain/screening.js';

type Schema = Record<string, unknown>;

const KEYWORDS = new Set([
  '$schema', 'title', 'description', 'type', 'properties', 'required', 'additionalProperties', 'items', 'minItems', 'maxItems',
  'enum', 'const', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'pattern', 'oneOf', 'anyOf', 'default', 'examples',
]);
const TYPES = new Set(['object', 'array', 'string', 'number', 'integer', 'boolean', 'null']);

/** Checks that a schema uses known keywords with well-typed values; returns the problems. */
function wellFormed(schema: Schema, at = '#'): string[] {
  const problems: string[] = [];
  for (const [k, v] of Object.entries(schema)) {
    if (!KEYWORDS.has(k)) problems.push(`${at}: unknown keyword ${k}`);
    if (k === 'type' && !(typeof v === 'string' ? TYPES.has(v) : Array.isArray(v) && v.every((t) => TYPES.has(t as string)))) problems.push(`${at}: bad type ${String(v)}`);
    if (['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minItems', 'maxItems', 'minLength', 'maxLength'].includes(k) && typeof v !== 'number') problems.push(`${at}: ${k} not a number`);
    if (k === 'required' && !(Array.isArray(v) && v.every((r) => typeof r === 'string' && r in ((schema.properties as Schema | undefined) ?? {})))) problems.push(`${at}: required names a missing property`);
    if (k === 'enum' && !(Array.isArray(v) && v.length > 0)) problems.push(`${at}: empty enum`);
    if (k === 'pattern') {
      try {
        new RegExp(v as string, 'u');
      } catch {
        problems.push(`${at}: pattern does not compile`);
      }
    }
  }
  if (typeof schema.minimum === 'number' && typeof schema.maximum === 'number' && schema.minimum > schema.maximum) problems.push(`${at}: minimum > maximum`);
  for (const [name, sub] of Object.entries((schema.properties as Record<string, Schema> | undefined) ?? {})) problems.push(...wellFormed(sub, `${at}/properties/${name}`));
  if (typeof schema.items === 'object') problems.push(...wellFormed(schema.items as Schema, `${at}/items`));
  for (const key of ['oneOf', 'anyOf'] as const) ((schema[key] as Schema[] | undefined) ?? []).forEach((s, i) => problems.push(...wellFormed(s, `${at}/${key}/${i}`)));
  if (typeof schema.additionalProperties === 'object') problems.push(...wellFormed(schema.additionalProperties as Schema, `${at}/additionalProperties`));
  return problems;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Validates a value against the schema subset; returns the problems with their JSON pointers. */
function conform(schema: Schema, value: unknown, at = ''): string[] {
  const problems: string[] = [];
  const t = typeOf(value);
  const types = schema.type === undefined ? undefined : ([] as unknown[]).concat(schema.type);
  if (types && !types.some((x) => x === t || (x === 'number' && t === 'integer'))) return [`${at}: ${t} is not ${types.join('|')}`];
  if ('const' in schema && schema.const !== value) problems.push(`${at}: not ${String(schema.const)}`);
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) problems.push(`${at}: not in enum`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) problems.push(`${at}: below minimum`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) problems.push(`${at}: above maximum`);
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) problems.push(`${at}: not above exclusiveMinimum`);
  }
  if (typeof value === 'string') {
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) problems.push(`${at}: too long`);
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) problems.push(`${at}: too short`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) problems.push(`${at}: pattern`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) problems.push(`${at}: too few items`);
    value.forEach((item, i) => problems.push(...conform(schema.items as Schema, item, `${at}/${i}`)));
  }
  if (t === 'object') {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const r of (schema.required as string[] | undefined) ?? []) if (!(r in obj)) problems.push(`${at}: missing ${r}`);
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) problems.push(...conform(props[k], v, `${at}/${k}`));
      else if (schema.additionalProperties === false) problems.push(`${at}: unexpected ${k}`);
    }
  }
  if (schema.oneOf) {
    const passing = (schema.oneOf as Schema[]).filter((s) => conform(s, value, at).length === 0).length;
    if (passing !== 1) problems.push(`${at}: matches ${passing} of oneOf`);
  }
  if (schema.anyOf && !(schema.anyOf as Schema[]).some((s) => conform(s, value, at).length === 0)) problems.push(`${at}: matches none of anyOf`);
  return problems;
}

describe('protocol JSON Schema', () => {
  const schema = protocolJsonSchema();

  it('is a well-formed draft 2020-12 schema of a closed object', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(['format', 'id', 'name', 'indication', 'sources', 'electrode', 'channels', 'phases', 'aftercare']));
    expect(wellFormed(schema)).toEqual([]);
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });

  it('carries the hard limits as ranges for editors', () => {
    const phase = ((schema.properties as Record<string, Schema>).phases!.items as Schema).properties as Record<string, Schema>;
    expect(phase.frequencyHz).toMatchObject({ minimum: 1, maximum: 150 });
    expect(phase.pulseWidthUs).toMatchObject({ type: 'integer', minimum: 50, maximum: 600 });
    expect((phase.amplitude!.properties as Record<string, Schema>).maxMa).toMatchObject({ exclusiveMinimum: 0, maximum: 20 });
    expect(phase.waveform!.enum).toEqual(['biphasic-symmetric', 'biphasic-asymmetric']);
  });

  it.each(Object.entries(BUILT_IN_FILES))('built-in %s conforms', (_, json) => {
    expect(conform(schema, json)).toEqual([]);
  });

  it('conforms for the valid fixtures and catches a structural error (the check can fail)', () => {
    const dir = path.resolve(import.meta.dirname, '../../fixtures/protocols/valid');
    for (const f of readdirSync(dir)) expect(conform(schema, JSON.parse(readFileSync(path.join(dir, f), 'utf8'))), f).toEqual([]);
    const bad = structuredClone(BUILT_IN_FILES['knee-oa-periosteal.json']) as Record<string, unknown> & { phases: { amplitude: { maxMa: number } }[] };
    bad.phases[0]!.amplitude.maxMa = 25;
    bad.extra = true;
    expect(conform(schema, bad).sort()).toEqual(['/phases/0/amplitude/maxMa: above maximum', ': unexpected extra']);
  });
});

describe('screening answers JSON Schema', () => {
  it('is well-formed and the templates conform', () => {
    const schema = screeningJsonSchema();
    expect(wellFormed(schema)).toEqual([]);
    expect(conform(schema, screeningTemplate())).toEqual([]);
    expect(conform(schema, screeningTemplate({ id: 'x', channels: [{ region: 'knee', side: 'left' }] }))).toEqual([]);
    expect(conform(schema, { ...screeningTemplate(), answers: { needlePhobia: 'yes' } })).not.toEqual([]);
  });
});
