// Any console output from code under test is a defect (STYLE.md, after zod's test setup):
// code reports through return values, events and journals, never by printing as a side effect.
// A test that needs to see what a CLI prints injects its own output stream.
import { afterEach, beforeEach } from 'vitest';

const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
const saved = new Map<string, unknown>();
let calls: string[] = [];

beforeEach(() => {
  calls = [];
  for (const m of methods) {
    saved.set(m, console[m]);
    console[m] = (...args: unknown[]) => {
      calls.push(`console.${m}: ${args.map(String).join(' ')}`);
    };
  }
});

afterEach(() => {
  for (const m of methods) console[m] = saved.get(m) as (typeof console)[typeof m];
  if (calls.length > 0) {
    const seen = calls.join('\n');
    calls = [];
    throw new Error(`test wrote to the console:\n${seen}`);
  }
});
