/** The browser host: the renderer over HTTP and the contract over a WebSocket, on 127.0.0.1 only. */
export {
  GRACE_MS,
  LOOPBACK_HOST,
  MAX_MESSAGE_BYTES,
  WS_PATH,
  isLoopback,
  newToken,
  securityHeaders,
  startWebHost,
  tokenMatches,
  type HostedService,
  type PageSource,
  type RefusalReason,
  type RendererPage,
  type WebHost,
  type WebHostOptions,
} from './host.js';
export { DEFAULT_RENDERER_ROOT, bundleRenderer, rendererSource, stopBundler, type BundleOptions } from './bundle.js';
