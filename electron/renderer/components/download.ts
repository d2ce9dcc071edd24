/** Save text as a file through the browser's (or Electron's) download, with no navigation. */
import { h } from '../dom.js';

export function downloadText(fileName: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: fileName, class: 'sr-only', tabindex: '-1' }, fileName);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
