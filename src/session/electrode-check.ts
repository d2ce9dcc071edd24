/**
 * The electrode check before output: IMP on every channel of the protocol, one after another, each
 * result judged by `judgeElectrode` (electrodes.ts) against the device's compliance voltage at the
 * protocol's highest maxMa. The results are recorded and shown; any result outside the band, or no
 * check at all, blocks the start (`startRefusal`). A session that left checking-electrodes while an
 * IMP was on its way (cancelled, aborted) stops the check there: nothing more is sent or recorded.
 * The runner's state is reached only through the context.
 */
import type { DeviceClient } from '../device/client.js';
import { type ElectrodeResult, judgeElectrode } from './electrodes.js';
import type { RecordDataInput } from './journal-records.js';
import { type Refusal, type SessionResult, deviceError, illegal, refuse } from './results.js';
import type { SessionContext } from './session-context.js';

export interface ElectrodeCheckContext extends Pick<SessionContext, 'state' | 'protocol' | 'channels' | 'publish'> {
  readonly client: Pick<DeviceClient, 'info' | 'request'>;
  readonly journal: { record(type: 'electrodes', data: RecordDataInput<'electrodes'>): void };
}

export class ElectrodeCheck {
  readonly #ctx: ElectrodeCheckContext;
  #results: readonly ElectrodeResult[] = [];

  constructor(ctx: ElectrodeCheckContext) {
    this.#ctx = ctx;
  }

  /** The last complete check of this session (empty before one). */
  get results(): readonly ElectrodeResult[] {
    return this.#results;
  }

  /** A new or forgotten session: nothing checked yet. */
  reset(): void {
    this.#results = [];
  }

  /** IMP on every channel of the protocol; the results, or why the check stopped. */
  async check(): Promise<SessionResult<readonly ElectrodeResult[]>> {
    const ctx = this.#ctx;
    const device = ctx.client.info;
    if (!device) return refuse('NotConnected', 'the device is not connected');
    const maxMa = Math.max(...ctx.protocol().phases.map((p) => p.amplitude.maxMa));
    const results: ElectrodeResult[] = [];
    for (const c of ctx.channels()) {
      const r = await ctx.client.request('IMP', { ch: c.channel });
      if (ctx.state() !== 'checking-electrodes') return illegal('checkElectrodes', ctx.state());
      if (!r.ok) return deviceError(r.error);
      c.impedance = r.value.z;
      results.push(judgeElectrode(c.channel, r.value.z, device.limits.complianceV, maxMa));
    }
    this.#results = results;
    ctx.journal.record('electrodes', { results });
    ctx.publish();
    return { ok: true, value: results };
  }

  /** Why output may not start on these electrodes, or undefined when every channel passed. */
  startRefusal(): Refusal | undefined {
    if (this.#results.length > 0 && this.#results.every((e) => e.ok)) return undefined;
    const why = this.#results.find((e) => !e.ok)?.reason ?? 'the electrodes have not been checked';
    return refuse('ElectrodesNotReady', `cannot start: ${why}`);
  }
}
