/**
 * Leaving a screen that guards itself (the protocol editor with unsaved edits, issue 16 section 5):
 * AppContext.navigate asks the guard of the screen being left, goes on only when it agrees, and
 * never lets a late answer move a screen that has been left meanwhile.
 */
import { describe, expect, it } from 'vitest';
import type { EdnApi } from '../../../src/app/contract.js';
import { AppContext, type ScreenName } from '../../../electron/renderer/context.js';

/** Just enough of the API for the context's constructor (it subscribes to events). */
const api = { on: () => () => undefined } as unknown as EdnApi;

function setup(): { ctx: AppContext; shown: ScreenName[] } {
  const ctx = new AppContext(api);
  const shown: ScreenName[] = [];
  ctx.screens.on((s) => shown.push(s));
  ctx.navigate('protocols');
  return { ctx, shown };
}

/** A guard answered later by the test. */
function deferred(): { guard: () => Promise<boolean>; answer: (ok: boolean) => Promise<void>; asked: () => number } {
  let resolve: ((ok: boolean) => void) | undefined;
  let asked = 0;
  return {
    guard: () => {
      asked += 1;
      return new Promise<boolean>((r) => {
        resolve = r;
      });
    },
    answer: async (ok) => {
      resolve?.(ok);
      await Promise.resolve();
      await Promise.resolve();
    },
    asked: () => asked,
  };
}

describe('a screen may ask before it is left (unsaved protocol edits)', () => {
  it('a guard that answers at once: true leaves, false stays (and nothing is emitted)', () => {
    const { ctx, shown } = setup();
    let allow = false;
    ctx.guardLeaving('protocols', () => allow);
    ctx.navigate('device');
    expect([ctx.screen, shown]).toEqual(['protocols', ['protocols']]);
    allow = true;
    ctx.navigate('device');
    expect([ctx.screen, shown]).toEqual(['device', ['protocols', 'device']]);
  });

  it('a guard that asks: the screen changes only after "yes", not after "keep editing"', async () => {
    const { ctx, shown } = setup();
    const d = deferred();
    ctx.guardLeaving('protocols', d.guard);
    ctx.navigate('history');
    expect(ctx.screen).toBe('protocols');
    await d.answer(false);
    expect([ctx.screen, shown]).toEqual(['protocols', ['protocols']]);
    ctx.navigate('history');
    await d.answer(true);
    expect([ctx.screen, shown]).toEqual(['history', ['protocols', 'history']]);
    expect(d.asked()).toBe(2);
  });

  it('only the screen being left is asked; another screen without a guard is left freely', () => {
    const { ctx } = setup();
    ctx.guardLeaving('protocols', () => false);
    ctx.navigate('protocols');
    expect(ctx.screen).toBe('protocols');
    const c2 = setup().ctx;
    c2.navigate('device');
    c2.guardLeaving('protocols', () => false);
    c2.navigate('history');
    expect(c2.screen).toBe('history');
  });

  it('a late "yes" does not move a screen that was left meanwhile; removing the guard stops the asking', async () => {
    const { ctx } = setup();
    const d = deferred();
    const remove = ctx.guardLeaving('protocols', d.guard);
    ctx.navigate('history');
    remove();
    ctx.navigate('device'); // e.g. the shell showing the session screen on its own
    expect(ctx.screen).toBe('device');
    await d.answer(true);
    expect(ctx.screen).toBe('device');
    expect(d.asked()).toBe(1);
  });
});
