/**
 * `edn web`: the app in a browser, on 127.0.0.1 only, with the simulator (real ports only with
 * --allow-hardware). Prints the URL to open (with its token) and runs until SIGINT or SIGTERM,
 * which e-stops a session that may have output on before anything closes.
 */
import * as fs from 'node:fs';
import path from 'node:path';
import { superviseController } from '../../app/worker-host.js';
import { WORKER_ENTRY, nodeWorkerFactory } from '../../app/worker-node.js';
import { REPO_ROOT, bundledCli, cacheDir } from '../launch.js';
import { writeFileAtomic } from '../../app/store.js';
import { bundleRenderer, DEFAULT_RENDERER_ROOT, rendererSource, stopBundler } from '../../web/bundle.js';
import { LOOPBACK_HOST, startWebHost } from '../../web/host.js';
import { type Command, EXIT, UsageError, parse, write } from '../command.js';
import { defaultDataDir } from './run.js';

const USAGE = `Usage: edn web [--port N] [--data-dir DIR] [--allow-hardware] [--open-url-file FILE]
               [--renderer DIR] [--debug]

Serve the app's user interface to a browser on this computer, with the same controls and records
as the desktop app: for rehearsing sessions on the simulated stimulator with no hardware, and for
testing the interface. Prints the address to open; it holds a random token, and the host answers
only this computer (127.0.0.1), that address, and pages it served itself.

If the browser page goes away while output may be on (closed, crashed, network dropped) and no
page reconnects within 2 s, the session is emergency-stopped. A page reload reconnects in time.
Ctrl-C (SIGINT) or SIGTERM emergency-stops a session with output on, then exits.

Options:
  --port N             TCP port on 127.0.0.1 (default: a free one)
  --host 127.0.0.1     the only address accepted; anything else is refused
  --data-dir DIR       protocols, session journals and settings (default $EDN_DATA_DIR, else
                       ~/.local/share/edn-controller)
  --allow-hardware     also offer real serial ports (default: only the simulator)
  --serial PATH        with --allow-hardware, also offer this serial device even when the system
                       does not list it: the pty of 'edn simulate --pty' (also with
                       --firmware qemu, the C firmware), a symlink (repeatable)
  --open-url-file FILE also write the address to FILE (mode 0600), for scripts and tests
  --renderer DIR       the user interface to serve (default electron/renderer of this checkout;
                       DIR/index.html and DIR/main.ts)
  --debug              check every result against the contract and report mismatches
  -h, --help           this text

Exit codes: 0 stopped by a signal, 1 could not start, 2 usage.`;

/**
 * The controller worker's entry as a cached bundle (built like the CLI's own, src/cli/launch.js),
 * so a worker starts in milliseconds; undefined (tsx runs the sources) when it cannot be built.
 */
async function workerBundle(log: (message: string) => void): Promise<{ file: string; loader: string; root: string } | undefined> {
  if (process.env.EDN_CLI_CACHE === 'off') return undefined;
  try {
    const entry = path.relative(REPO_ROOT, WORKER_ENTRY);
    const file = await bundledCli({ entry, dir: path.join(cacheDir(), 'controller-worker') });
    return file === undefined ? undefined : { file, loader: path.join(REPO_ROOT, 'src', 'cli', 'launch.js'), root: REPO_ROOT };
  } catch (e) {
    log(`the controller worker runs through tsx (its bundle did not build: ${e instanceof Error ? e.message : String(e)})`);
    return undefined;
  }
}

export const webCommand: Command = {
  name: 'web',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'allow-hardware': { type: 'boolean' },
      serial: { type: 'string', multiple: true },
      'open-url-file': { type: 'string' },
      renderer: { type: 'string' },
      debug: { type: 'boolean' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (values.host !== undefined && values.host !== LOOPBACK_HOST) {
      throw new UsageError(`--host ${values.host} is refused: the web host listens on ${LOOPBACK_HOST} only, so no other machine can reach the controls`);
    }
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, not '${values.port}'`);
    const dataDir = path.resolve(io.cwd, values['data-dir'] ?? defaultDataDir(io.env));
    const renderer = values.renderer === undefined ? DEFAULT_RENDERER_ROOT : path.resolve(io.cwd, values.renderer);
    const allowHardware = values['allow-hardware'] === true;
    const serialPaths = (values.serial ?? []).map((p) => path.resolve(io.cwd, p));
    if (serialPaths.length > 0 && !allowHardware) throw new UsageError('--serial needs --allow-hardware (it offers a serial device)');
    const log = (message: string): void => write(io.stderr, `edn web: ${message}`);

    // The session core runs in its own process (src/app/worker-host.ts): nothing the browser asks
    // for can delay its heartbeat, and a crash of it is seen here at once.
    const service = superviseController({ dataDir, allowHardware, serialPaths, factory: nodeWorkerFactory({ bundle: await workerBundle(log) }), log });
    await service.ready();
    for (const problem of service.problems) log(problem);
    let host;
    try {
      host = await startWebHost({ service, page: rendererSource({ root: renderer }), port, validateOutput: values.debug === true, log });
    } catch (e) {
      log(`cannot start: ${e instanceof Error ? e.message : String(e)}`);
      await service.dispose();
      return EXIT.failed;
    }
    // Build once now so a broken renderer is reported at start (the host keeps running: a
    // reload after a fix picks it up).
    try {
      await bundleRenderer({ root: renderer });
    } catch (e) {
      log(`the user interface does not build yet (${renderer}):\n${e instanceof Error ? e.message : String(e)}`);
    }
    if (values['open-url-file'] !== undefined) {
      const file = path.resolve(io.cwd, values['open-url-file']);
      try {
        writeFileAtomic(file, `${host.url}\n`);
        fs.chmodSync(file, 0o600);
      } catch (e) {
        log(`cannot write ${file}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    write(io.stdout, `EDN Controller in the browser: open ${host.url}`);
    write(io.stdout, `data: ${dataDir}; ${allowHardware ? 'serial ports and the simulator' : 'simulator only (--allow-hardware for serial ports)'}; Ctrl-C to stop`);

    await new Promise<void>((resolve) => {
      if (!io.signals || io.signals.aborted) {
        if (io.signals?.aborted) resolve();
        return; // no signals to wait for: run until the process is killed
      }
      io.signals.addEventListener('abort', () => resolve(), { once: true });
    });
    if (service.outputMayBeOn()) {
      const r = await service.emergencyStop('signal');
      write(io.stdout, r.ok ? 'emergency stop: output off' : `emergency stop sent; the device did not confirm it: ${r.error.message}`);
    }
    await host.close();
    await service.dispose();
    await stopBundler();
    write(io.stdout, 'stopped');
    return EXIT.ok;
  },
};
