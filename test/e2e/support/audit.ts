/**
 * A quick accessibility audit of what is on screen (WCAG 2.2 AA, the parts a script can check
 * reliably): every visible control has an accessible name, and a target of at least 44 x 44 px
 * (UX.md; stricter than WCAG's 24 px). A radio button or checkbox counts with its label, a
 * visually hidden file input by its label; a link inside a sentence is exempt (WCAG 2.5.8
 * "inline"), a button styled as a link is not (it is a target of its own: the editor's "go to the
 * field" buttons were 32 px high).
 * Returns one line per problem.
 */
import type { Page } from 'playwright-core';

export async function auditControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const visible = (el: Element) => {
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && style.visibility !== 'hidden' && el.closest('[hidden]') === null;
    };
    const describe = (el: Element) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ').join('.')}` : ''} "${(el.textContent ?? '').trim().slice(0, 40)}"`;
    const nameOf = (el: HTMLElement): string => {
      const labelled = el.getAttribute('aria-labelledby');
      if (labelled) return labelled.split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? '').join(' ').trim();
      const aria = el.getAttribute('aria-label');
      if (aria) return aria.trim();
      if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement) {
        return [...(el.labels ?? [])].map((l) => l.textContent ?? '').join(' ').trim();
      }
      const clone = el.cloneNode(true) as HTMLElement;
      for (const hidden of clone.querySelectorAll('[aria-hidden="true"]')) hidden.remove();
      return (clone.textContent ?? '').trim();
    };
    const controls = document.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], summary, iframe');
    for (const el of controls) {
      const hiddenFile = el instanceof HTMLInputElement && el.type === 'file';
      if (!hiddenFile && !visible(el)) continue;
      if (hiddenFile && el.closest('[hidden]') !== null) continue;
      if (el.classList.contains('sr-only') || el.classList.contains('skip')) continue;
      const name = el instanceof HTMLIFrameElement ? (el.title ?? '') : nameOf(el);
      if (!name) problems.push(`no accessible name: ${describe(el)}`);
      if (el instanceof HTMLIFrameElement || (el instanceof HTMLAnchorElement && el.closest('p, li') !== null)) continue;
      const box = (el instanceof HTMLInputElement && (el.type === 'radio' || el.type === 'checkbox' || el.type === 'file') ? (el.labels?.[0] ?? el) : el).getBoundingClientRect();
      if (box.width < 44 - 0.5 || box.height < 44 - 0.5) problems.push(`target ${Math.round(box.width)}x${Math.round(box.height)} px < 44x44: ${describe(el)}`);
    }
    return problems;
  });
}
