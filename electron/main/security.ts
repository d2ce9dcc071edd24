/**
 * The Electron security policy of the EDN Controller, in one place (after Electron's security
 * checklist, docs/tutorial/security.md). Everything here works on objects passed in, so it is
 * unit-tested with fakes; the structural types below are checked against the electron package's
 * own declarations wherever the real objects are passed (electron/main/main.ts).
 *
 * - The renderer is sandboxed, context-isolated, without Node, and loaded from one file:// URL
 *   (its webPreferences are written where the window is created, window.ts, for scanners to see).
 * - A strict Content-Security-Policy is added to every response header, and the renderer's
 *   index.html must carry the same policy in a meta tag (see {@link CONTENT_SECURITY_POLICY}).
 * - Navigation away from the app page, new windows and <webview> are refused.
 * - Every permission request and check is denied; Web Serial, WebHID and WebUSB device pickers are
 *   cancelled and device permissions refused: the serial port is reached from main only.
 */

/**
 * The CSP of the app page. The renderer's `electron/renderer/index.html` must carry this policy
 * as `<meta http-equiv="Content-Security-Policy" content="...">` too, because response headers are
 * not guaranteed for file:// documents on every Electron version; the header added here is then a
 * second, equal policy (browsers enforce the intersection of all policies). The one directive the
 * meta tag may relax is `connect-src` (to `'self'`), so the same page can reach the loopback
 * WebSocket of `npm run web`; in Electron the header keeps it at `'none'`: IPC needs no network.
 *
 * `form-action` does not fall back to `default-src`, so it is listed explicitly.
 */
export const CSP_DIRECTIVES = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'none'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'frame-ancestors': ["'none'"],
  'form-action': ["'none'"],
} as const satisfies Record<string, readonly string[]>;

export const CONTENT_SECURITY_POLICY = Object.entries(CSP_DIRECTIVES)
  .map(([name, sources]) => `${name} ${sources.join(' ')}`)
  .join('; ');

/** An Electron event whose default action can be cancelled. */
export interface PreventableEvent {
  preventDefault(): void;
}

// ---- URLs -------------------------------------------------------------------------------------------

/** `file:///…/index.html` without query and fragment, or undefined when `url` is not a file URL. */
function fileUrlPath(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'file:') return undefined;
  return `file://${parsed.host}${parsed.pathname}`;
}

/**
 * Whether `url` is the app page itself (the renderer's index.html as a file:// URL; a query or a
 * fragment is ignored). Anything else, another file included, is foreign.
 */
export function isAppUrl(url: string, appUrl: string): boolean {
  const a = fileUrlPath(url);
  return a !== undefined && a === fileUrlPath(appUrl);
}

// ---- session policy --------------------------------------------------------------------------------

type Headers = Record<string, string[]>;

/** The part of Electron's Session the policy configures (structural; `Session` satisfies it). */
export interface SessionLike {
  readonly webRequest: {
    onHeadersReceived(
      listener: (
        details: { readonly url: string; readonly responseHeaders?: Headers },
        callback: (response: { responseHeaders?: Record<string, string | string[]> }) => void,
      ) => void,
    ): void;
  };
  setPermissionRequestHandler(handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void;
  setDevicePermissionHandler(handler: (details: unknown) => boolean): void;
  on(event: 'select-serial-port', listener: (event: PreventableEvent, portList: unknown[], webContents: unknown, callback: (portId: string) => void) => void): unknown;
  on(event: 'select-hid-device', listener: (event: PreventableEvent, details: unknown, callback: (deviceId?: string | null) => void) => void): unknown;
  on(event: 'select-usb-device', listener: (event: PreventableEvent, details: unknown, callback: (deviceId?: string) => void) => void): unknown;
  on(event: 'will-download', listener: (event: unknown, item: DownloadItemLike, webContents: unknown) => void): unknown;
}

/** The part of Electron's DownloadItem the policy uses (structural). */
export interface DownloadItemLike {
  getSavePath(): string;
  once(event: 'done', listener: (event: unknown, state: 'completed' | 'cancelled' | 'interrupted') => void): unknown;
}

/** Something refused by the policy, for the log (never includes page content). */
export type PolicyRefusal =
  | { kind: 'permission-request' | 'permission-check'; permission: string }
  | { kind: 'device-permission' | 'serial-port' | 'hid-device' | 'usb-device' | 'bluetooth-device' }
  | { kind: 'navigation' | 'redirect' | 'frame-navigation' | 'window-open'; url: string }
  | { kind: 'webview' };

export type RefusalSink = (refusal: PolicyRefusal) => void;

/** The response headers with the app CSP set (any other header is kept as it is). */
export function withCsp(headers: Headers | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() !== 'content-security-policy') out[name] = value;
  }
  // Keep a stricter policy a response may already carry: policies intersect, so adding ours only
  // ever narrows what the page may do.
  const existing = Object.entries(headers ?? {})
    .filter(([name]) => name.toLowerCase() === 'content-security-policy')
    .flatMap(([, value]) => value);
  out['Content-Security-Policy'] = [...existing, CONTENT_SECURITY_POLICY];
  return out;
}

/**
 * Applies the session-wide policy: the CSP on every response, every permission denied, every
 * device picker (Web Serial, WebHID, WebUSB) cancelled and every device permission refused.
 * Every file the page saves (an exported report or protocol) is handed to `saved` once complete,
 * so main can make it readable by its owner only, like the journals.
 */
export function applySessionPolicy(session: SessionLike, refused: RefusalSink = () => undefined, saved: (file: string) => void = () => undefined): void {
  session.on('will-download', (_event, item) => {
    item.once('done', (_done, state) => {
      if (state === 'completed') saved(item.getSavePath());
    });
  });
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withCsp(details.responseHeaders) });
  });
  session.setPermissionRequestHandler((_webContents, permission, callback) => {
    refused({ kind: 'permission-request', permission });
    callback(false);
  });
  session.setPermissionCheckHandler((_webContents, permission) => {
    refused({ kind: 'permission-check', permission });
    return false;
  });
  session.setDevicePermissionHandler(() => {
    refused({ kind: 'device-permission' });
    return false;
  });
  session.on('select-serial-port', (event, _ports, _webContents, callback) => {
    event.preventDefault();
    refused({ kind: 'serial-port' });
    callback(''); // an empty id cancels navigator.serial.requestPort()
  });
  session.on('select-hid-device', (event, _details, callback) => {
    event.preventDefault();
    refused({ kind: 'hid-device' });
    callback(); // no id cancels navigator.hid.requestDevice()
  });
  session.on('select-usb-device', (event, _details, callback) => {
    event.preventDefault();
    refused({ kind: 'usb-device' });
    callback(); // no id cancels navigator.usb.requestDevice()
  });
}

// ---- per-webContents policy -----------------------------------------------------------------------

export interface NavigationEvent extends PreventableEvent {
  readonly url: string;
}

/** The part of Electron's WebContents the navigation policy configures (structural). */
export interface HardenableContents {
  on(event: 'will-navigate', listener: (event: NavigationEvent) => void): unknown;
  on(event: 'will-redirect', listener: (event: NavigationEvent) => void): unknown;
  on(event: 'will-frame-navigate', listener: (event: NavigationEvent & { readonly isMainFrame: boolean }) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): unknown;
  on(event: 'select-bluetooth-device', listener: (event: PreventableEvent, devices: unknown[], callback: (deviceId: string) => void) => void): unknown;
  setWindowOpenHandler(handler: (details: { readonly url: string }) => { action: 'deny' }): void;
}

/** Sub-frame documents that carry no content of their own (a report preview uses `srcdoc`). */
const INERT_FRAME_URLS = new Set(['about:blank', 'about:srcdoc']);

const hardened = new WeakSet<object>();

/**
 * Applies the navigation policy to one webContents (idempotent): the main frame may only go to the
 * app page, sub-frames only to the app page or an inert document, redirects are refused, new
 * windows are denied, <webview> is never attached and Web Bluetooth pickers are cancelled.
 */
export function hardenContents(contents: HardenableContents, appUrl: string, refused: RefusalSink = () => undefined): void {
  if (hardened.has(contents)) return;
  hardened.add(contents);
  contents.on('will-navigate', (event) => {
    if (isAppUrl(event.url, appUrl)) return;
    event.preventDefault();
    refused({ kind: 'navigation', url: event.url });
  });
  contents.on('will-frame-navigate', (event) => {
    if (isAppUrl(event.url, appUrl) || (!event.isMainFrame && INERT_FRAME_URLS.has(event.url))) return;
    event.preventDefault();
    // The main frame's refusal is already reported by will-navigate (both fire for it).
    if (!event.isMainFrame) refused({ kind: 'frame-navigation', url: event.url });
  });
  contents.on('will-redirect', (event) => {
    event.preventDefault();
    refused({ kind: 'redirect', url: event.url });
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    refused({ kind: 'webview' });
  });
  contents.on('select-bluetooth-device', (event, _devices, callback) => {
    event.preventDefault();
    refused({ kind: 'bluetooth-device' });
    callback('');
  });
  contents.setWindowOpenHandler(({ url }) => {
    refused({ kind: 'window-open', url });
    return { action: 'deny' };
  });
}
