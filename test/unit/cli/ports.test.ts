import { describe, expect, it } from 'vitest';
import { portsCommand } from '../../../src/cli/commands/ports.js';
import { main } from '../../../src/cli/main.js';
import { listPorts, type RawPort } from '../../../src/device/ports.js';
import { memoryIO } from './memory-io.js';

const FTDI: RawPort = { path: '/dev/ttyUSB0', manufacturer: 'FTDI', vendorId: '0403', productId: '6001' };
const OTHER: RawPort = { path: '/dev/ttyACM0', manufacturer: 'Arduino', vendorId: '2341', productId: '0043' };

describe('listPorts', () => {
  it('offers the simulator first when no stimulator is found', async () => {
    const ports = await listPorts({ list: () => Promise.resolve([OTHER]) });
    expect(ports.map((p) => [p.path, p.likelyStimulator])).toEqual([
      ['sim', false],
      ['/dev/ttyACM0', false],
    ]);
  });

  it('marks known stimulator interfaces and lists them first, the simulator last', async () => {
    const ports = await listPorts({ list: () => Promise.resolve([OTHER, FTDI]) });
    expect(ports.map((p) => [p.path, p.likelyStimulator])).toEqual([
      ['/dev/ttyUSB0', true],
      ['/dev/ttyACM0', false],
      ['sim', false],
    ]);
  });

  it('takes the USB ids from the caller', async () => {
    const ports = await listPorts({ usbIds: ['2341:0043'], list: () => Promise.resolve([OTHER, FTDI]) });
    expect(ports.find((p) => p.path === '/dev/ttyACM0')?.likelyStimulator).toBe(true);
    expect(ports.find((p) => p.path === '/dev/ttyUSB0')?.likelyStimulator).toBe(false);
  });

  it('still offers the simulator when listing fails', async () => {
    const ports = await listPorts({ list: () => Promise.reject(new Error('no udev')) });
    expect(ports.map((p) => p.path)).toEqual(['sim']);
  });
});

describe('edn ports', () => {
  it('prints one JSON object per port with --json', async () => {
    const io = memoryIO('/');
    const code = await portsCommand(() => Promise.resolve([FTDI])).run(['--json', '--usb-ids', '0403:6001'], io);
    expect(code).toBe(0);
    expect(io.stdout.text.trim().split('\n').map((l) => (JSON.parse(l) as { path: string }).path)).toEqual(['/dev/ttyUSB0', 'sim']);
  });

  it('refuses malformed USB ids as a usage error', async () => {
    const io = memoryIO('/');
    expect(await main(['ports', '--usb-ids', 'ftdi'], io)).toBe(2);
    expect(io.stderr.text).toMatch(/vendor:product pairs of 4 hex digits/);
  });
});
