/** `edn ports`: serial ports, likely stimulators first, and the simulator. */
import { DEFAULT_STIMULATOR_USB_IDS, listPorts, type ListPortsOptions } from '../../device/ports.js';
import { type Command, EXIT, UsageError, parse, write } from '../command.js';

const USAGE = `Usage: edn ports [--json] [--usb-ids VID:PID,...]

List serial ports. Ports whose USB vendor:product id is a known stimulator interface are marked
and listed first; the simulated stimulator ("sim") is always offered, first when no stimulator is
found.

Options:
  --json              one JSON object per port
  --usb-ids LIST      comma-separated vendor:product ids (hex) that mark a stimulator
                      (default ${DEFAULT_STIMULATOR_USB_IDS.join(',')})
  -h, --help          this text`;

export function portsCommand(list?: ListPortsOptions['list']): Command {
  return {
    name: 'ports',
    usage: USAGE,
    async run(argv, io) {
      const { values, positionals } = parse(argv, { json: { type: 'boolean' }, 'usb-ids': { type: 'string' } });
      if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      const ids = values['usb-ids']?.split(',').map((s) => s.trim().toLowerCase());
      if (ids?.some((id) => !/^[0-9a-f]{4}:[0-9a-f]{4}$/.test(id))) throw new UsageError(`--usb-ids takes vendor:product pairs of 4 hex digits, e.g. 0403:6001`);
      const ports = await listPorts({ ...(ids ? { usbIds: ids } : {}), ...(list ? { list } : {}) });
      for (const p of ports) {
        if (values.json) write(io.stdout, JSON.stringify(p));
        else write(io.stdout, `${p.likelyStimulator ? '*' : ' '} ${p.path.padEnd(16)} ${p.label}`);
      }
      if (!values.json) write(io.stdout, '\n* likely stimulator. Connect with --port PATH, or --sim for the simulator.');
      return EXIT.ok;
    },
  };
}
