/**
 * The confirmation dialog (used for one action only: starting output). It is not modal in the
 * browser's sense: the header with the Emergency stop stays reachable by mouse and keyboard
 * (a dialog must never stand between the clinician and the stop); the rest of the page is inert
 * while it is open.
 */
import { h, uid } from '../dom.js';

const open = new Set<() => void>();

/** Close every open confirmation as cancelled (the e-stop does this). */
export function cancelAllDialogs(): void {
  for (const cancel of [...open]) cancel();
}

export interface ConfirmOptions {
  readonly title: string;
  readonly body: readonly (Node | string)[];
  readonly confirm: string;
  readonly cancel: string;
  /** Elements made inert while the dialog is open (everything but the header). */
  readonly inertWhileOpen: readonly HTMLElement[];
}

export function confirmDialog(opts: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = uid('dlg-title');
    const bodyId = uid('dlg-body');
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
    const scrim = h('div', { class: 'scrim' });
    const cancelBtn = h('button', { type: 'button', class: 'secondary big' }, opts.cancel);
    const confirmBtn = h('button', { type: 'button', class: 'primary big' }, opts.confirm);
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': titleId, 'aria-describedby': bodyId, 'aria-modal': 'false' },
      h('h2', { id: titleId }, opts.title),
      // Focusable: a long body scrolls, and must scroll from the keyboard too.
      h('div', { id: bodyId, class: 'confirm-body', tabindex: '0' }, ...opts.body),
      h('div', { class: 'actions' }, cancelBtn, confirmBtn),
    );
    const finish = (ok: boolean) => {
      open.delete(cancel);
      for (const el of opts.inertWhileOpen) el.inert = false;
      dialog.close();
      dialog.remove();
      scrim.remove();
      if (previous?.isConnected) previous.focus();
      resolve(ok);
    };
    const cancel = () => finish(false);
    open.add(cancel);
    cancelBtn.addEventListener('click', cancel);
    confirmBtn.addEventListener('click', () => finish(true));
    for (const el of opts.inertWhileOpen) el.inert = true;
    document.body.append(scrim, dialog);
    dialog.show();
    cancelBtn.focus();
  });
}
