// EDN_EXTRA_PORTS: pseudo-terminals (a simulator or the firmware in QEMU on a pty) offered as ports.
import { describe, expect, it } from 'vitest';
import { extraPortsFromEnv, listPorts } from '../../../src/device/ports.js';

describe('extra ports', () => {
  it('parses a colon-separated list and ignores empty entries', () => {
    expect(extraPortsFromEnv('/tmp/edn-fw::/dev/pts/7:')).toEqual(['/tmp/edn-fw', '/dev/pts/7']);
    expect(extraPortsFromEnv(undefined)).toEqual([]);
  });

  it('lists them as serial ports after the system ones, once each', async () => {
    const ports = await listPorts({ list: () => Promise.resolve([{ path: '/dev/ttyUSB0' }]), extraPaths: ['/tmp/edn-fw', '/dev/ttyUSB0'] });
    expect(ports.map((p) => [p.path, p.kind])).toEqual([
      ['sim', 'simulator'],
      ['/dev/ttyUSB0', 'serial'],
      ['/tmp/edn-fw', 'serial'],
    ]);
    expect(ports.find((p) => p.path === '/tmp/edn-fw')).toMatchObject({ likelyStimulator: false, label: '/tmp/edn-fw EDN_EXTRA_PORTS' });
  });
});
