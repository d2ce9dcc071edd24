import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { protocolJsonSchema } from '../../../src/domain/protocols/schema.js';
import { memoryIO } from './memory-io.js';

describe('edn schema', () => {
  it('prints the protocol JSON Schema', async () => {
    const io = memoryIO('/');
    expect(await main(['schema'], io)).toBe(0);
    const schema = JSON.parse(io.stdout.text) as Record<string, unknown>;
    expect(schema).toEqual(protocolJsonSchema());
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('prints the screening answers schema with --screening', async () => {
    const io = memoryIO('/');
    expect(await main(['schema', '--screening'], io)).toBe(0);
    expect(JSON.parse(io.stdout.text)).toMatchObject({ title: 'EDN screening answers' });
  });

  it('refuses extra arguments', async () => {
    const io = memoryIO('/');
    expect(await main(['schema', 'protocol'], io)).toBe(2);
    expect(io.stderr.text).toContain('unexpected argument');
  });
});
