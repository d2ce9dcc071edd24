// The Electron security policy: webPreferences, CSP on every response, permissions and device
// pickers denied, navigation, redirects, new windows and <webview> refused.
import { EventEmitter } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONTENT_SECURITY_POLICY,
  type PolicyRefusal,
  applySessionPolicy,
  hardenContents,
  isAppUrl,
  withCsp,
} from '../../../electron/main/security.js';
import { APP_URL, FakeEvent, FakeSession, FakeWebContents, navigation } from './fakes.js';

function collect(): { refusals: PolicyRefusal[]; sink: (r: PolicyRefusal) => void } {
  const refusals: PolicyRefusal[] = [];
  return { refusals, sink: (r) => void refusals.push(r) };
}

describe('H16 Content-Security-Policy', () => {
  it('is the strict policy of the issue, plus form-action (which has no fallback)', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
    );
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)|\*/);
  });

  it('is added to every response, keeping the other headers and any existing policy', () => {
    const session = new FakeSession();
    applySessionPolicy(session);
    const responses: { url: string; responseHeaders?: Record<string, string[]> }[] = [
      { url: APP_URL },
      { url: 'file:///opt/edn/out/renderer/main.js', responseHeaders: { 'Content-Type': ['text/javascript'] } },
      { url: 'https://example.org/x', responseHeaders: { 'content-security-policy': ["default-src *"], 'X-Other': ['1'] } },
      { url: 'data:image/png;base64,AAAA', responseHeaders: {} },
    ];
    for (const details of responses) {
      let answered: { responseHeaders?: Record<string, string | string[]> } | undefined;
      session.headersListener!(details, (response) => (answered = response));
      expect(answered?.responseHeaders?.['Content-Security-Policy']).toContain(CONTENT_SECURITY_POLICY);
      for (const [name, value] of Object.entries(details.responseHeaders ?? {})) {
        if (name.toLowerCase() !== 'content-security-policy') expect(answered?.responseHeaders?.[name]).toEqual(value);
      }
    }
  });

  it('withCsp keeps a policy the response already had (policies intersect: ours only narrows)', () => {
    expect(withCsp({ 'content-security-policy': ["script-src 'none'"] })['Content-Security-Policy']).toEqual(["script-src 'none'", CONTENT_SECURITY_POLICY]);
  });
});

describe('permissions and devices', () => {
  const PERMISSIONS = ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen', 'display-capture', 'unknown'];

  it('denies every permission request and check, and says so', () => {
    const session = new FakeSession();
    const { refusals, sink } = collect();
    applySessionPolicy(session, sink);
    for (const permission of PERMISSIONS) {
      const answers: boolean[] = [];
      session.permissionRequest!({}, permission, (granted) => answers.push(granted));
      expect(answers).toEqual([false]);
    }
    for (const permission of [...PERMISSIONS, 'serial', 'hid', 'usb']) expect(session.permissionCheck!({}, permission)).toBe(false);
    expect(session.devicePermission!({ deviceType: 'serial' })).toBe(false);
    expect(refusals).toContainEqual({ kind: 'permission-request', permission: 'media' });
    expect(refusals).toContainEqual({ kind: 'permission-check', permission: 'serial' });
    expect(refusals).toContainEqual({ kind: 'device-permission' });
  });

  it('H27 hands every completed download (an exported report) to be made private, and makes it 0600', () => {
    const session = new FakeSession();
    const dir = mkdtempSync(path.join(tmpdir(), 'edn-download-'));
    try {
      const file = path.join(dir, 'report.html');
      writeFileSync(file, '<!doctype html>', { mode: 0o644 });
      chmodSync(file, 0o644);
      const saved: string[] = [];
      applySessionPolicy(session, undefined, (f) => {
        saved.push(f);
        chmodSync(f, 0o600);
      });
      const download = (savePath: string, state: string) => {
        const item = Object.assign(new EventEmitter(), { getSavePath: () => savePath });
        session.emit('will-download', {}, item, {});
        item.emit('done', {}, state);
      };
      download(path.join(dir, 'cancelled.html'), 'cancelled');
      download(file, 'completed');
      expect(saved).toEqual([file]);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cancels the Web Serial port picker (no Web Serial in the renderer)', () => {
    const session = new FakeSession();
    applySessionPolicy(session);
    const event = new FakeEvent();
    const picked: string[] = [];
    session.emit('select-serial-port', event, [{ portId: 'ttyUSB0', portName: '/dev/ttyUSB0' }], {}, (id: string) => picked.push(id));
    expect(event.defaultPrevented).toBe(true);
    expect(picked).toEqual(['']);
  });

  it('cancels the WebHID and WebUSB pickers', () => {
    const session = new FakeSession();
    applySessionPolicy(session);
    for (const name of ['select-hid-device', 'select-usb-device']) {
      const event = new FakeEvent();
      const picked: unknown[][] = [];
      session.emit(name, event, { deviceList: [{ deviceId: 'd1' }] }, (...args: unknown[]) => picked.push(args));
      expect(event.defaultPrevented).toBe(true);
      expect(picked).toEqual([[]]);
    }
  });
});

describe('isAppUrl', () => {
  it('accepts the app page (query and fragment ignored) and nothing else', () => {
    expect(isAppUrl(APP_URL, APP_URL)).toBe(true);
    expect(isAppUrl(`${APP_URL}#/session`, APP_URL)).toBe(true);
    expect(isAppUrl(`${APP_URL}?x=1`, APP_URL)).toBe(true);
    for (const url of [
      'file:///opt/edn/out/renderer/other.html',
      'file:///etc/passwd',
      'file://evil.example/opt/edn/out/renderer/index.html',
      'https://opt/edn/out/renderer/index.html',
      'http://127.0.0.1:8080/',
      'about:blank',
      'javascript:alert(1)',
      'data:text/html,<p>',
      'not a url',
      '',
    ]) {
      expect(isAppUrl(url, APP_URL), url).toBe(false);
    }
  });

  it('compares the decoded path exactly (no traversal, no encoding tricks)', () => {
    expect(isAppUrl('file:///opt/edn/out/renderer/../renderer/index.html', APP_URL)).toBe(true); // URL normalises ..
    expect(isAppUrl('file:///opt/edn/out/renderer/index.html%00.png', APP_URL)).toBe(false);
    expect(isAppUrl('file:///opt/edn/out/renderer/INDEX.html', APP_URL)).toBe(false);
  });
});

describe('H16 navigation, redirects, new windows, webviews', () => {
  function hardened() {
    const contents = new FakeWebContents();
    const { refusals, sink } = collect();
    hardenContents(contents, APP_URL, sink);
    return { contents, refusals };
  }

  it('blocks main-frame navigation anywhere but the app page', () => {
    const { contents, refusals } = hardened();
    for (const url of ['https://example.org/', 'file:///etc/passwd', 'file:///opt/edn/out/renderer/x.html', 'javascript:alert(1)']) {
      const event = navigation(url);
      contents.emit('will-navigate', event);
      expect(event.defaultPrevented, url).toBe(true);
    }
    const same = navigation(`${APP_URL}#history`);
    contents.emit('will-navigate', same);
    expect(same.defaultPrevented).toBe(false);
    expect(refusals.filter((r) => r.kind === 'navigation')).toHaveLength(4);
  });

  it('lets sub-frames show only the app page or an inert document (a srcdoc report preview)', () => {
    const { contents, refusals } = hardened();
    const srcdoc = navigation('about:srcdoc', false);
    const away = navigation('https://example.org/', false);
    const mainAway = navigation('https://example.org/', true);
    contents.emit('will-frame-navigate', srcdoc);
    contents.emit('will-frame-navigate', away);
    contents.emit('will-frame-navigate', mainAway);
    expect(srcdoc.defaultPrevented).toBe(false);
    expect(away.defaultPrevented).toBe(true);
    expect(mainAway.defaultPrevented).toBe(true);
    // The main frame's refusal is reported once, by will-navigate.
    expect(refusals).toEqual([{ kind: 'frame-navigation', url: 'https://example.org/' }]);
  });

  it('refuses redirects and <webview>', () => {
    const { contents } = hardened();
    const redirect = navigation('https://example.org/');
    const webview = new FakeEvent();
    contents.emit('will-redirect', redirect);
    contents.emit('will-attach-webview', webview, {}, {});
    expect(redirect.defaultPrevented).toBe(true);
    expect(webview.defaultPrevented).toBe(true);
  });

  it('denies every new window (window.open, target=_blank)', () => {
    const { contents, refusals } = hardened();
    for (const url of ['https://example.org/', APP_URL, 'about:blank']) expect(contents.windowOpenHandler!({ url })).toEqual({ action: 'deny' });
    expect(refusals.filter((r) => r.kind === 'window-open')).toHaveLength(3);
  });

  it('cancels the Web Bluetooth picker', () => {
    const { contents } = hardened();
    const event = new FakeEvent();
    const picked: string[] = [];
    contents.emit('select-bluetooth-device', event, [{ deviceId: 'b1', deviceName: 'x' }], (id: string) => picked.push(id));
    expect(event.defaultPrevented).toBe(true);
    expect(picked).toEqual(['']);
  });

  it('is applied once per webContents however often it is asked', () => {
    const contents = new FakeWebContents();
    hardenContents(contents, APP_URL);
    hardenContents(contents, APP_URL);
    expect(contents.listenerCount('will-navigate')).toBe(1);
  });
});
