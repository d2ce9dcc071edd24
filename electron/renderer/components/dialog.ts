/**
 * The confirmation dialogs (starting output, taking control, leaving unsaved protocol edits). They
 * are not modal in the browser's sense: the header with the Emergency stop stays reachable by mouse
 * and keyboard (a dialog must never stand between the clinician and the stop), and Escape is never
 * handled here (it is the e-stop key, caught for the whole window in app.ts, which closes every
 * open dialog with its do-nothing answer); the rest of the page is inert while one is open.
 */
import { h, uid } from '../dom.js';

const open = new Set<() => void>();

/** Close every open dialog with its do-nothing answer (the e-stop does this). */
export function cancelAllDialogs(): void {
  for (const cancel of [...open]) cancel();
}

export interface Choice<T extends string> {
  readonly value: T;
  readonly text: string;
  /** primary: the one filled button; danger: an action that loses something. */
  readonly kind: 'primary' | 'secondary' | 'danger';
}

export interface ChoiceOptions<T extends string> {
  readonly title: string;
  readonly body: readonly (Node | string)[];
  /** The buttons, left to right. */
  readonly choices: readonly Choice<T>[];
  /** The answer that changes nothing: given when the dialog is closed by the e-stop. It has focus first. */
  readonly cancelValue: T;
  /** Elements made inert while the dialog is open (everything but the header). */
  readonly inertWhileOpen: readonly HTMLElement[];
}

/** A dialog with one button per choice; resolves with the choice made. */
export function choiceDialog<T extends string>(opts: ChoiceOptions<T>): Promise<T> {
  return new Promise((resolve) => {
    const titleId = uid('dlg-title');
    const bodyId = uid('dlg-body');
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
    const scrim = h('div', { class: 'scrim' });
    const buttons = opts.choices.map((c) =>
      h('button', { type: 'button', class: `${c.kind === 'primary' ? 'primary' : c.kind === 'danger' ? 'secondary danger-text' : 'secondary'} big`, onclick: () => finish(c.value) }, c.text),
    );
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': titleId, 'aria-describedby': bodyId, 'aria-modal': 'false' },
      h('h2', { id: titleId }, opts.title),
      // Focusable: a long body scrolls, and must scroll from the keyboard too.
      h('div', { id: bodyId, class: 'confirm-body', tabindex: '0' }, ...opts.body),
      h('div', { class: 'actions' }, buttons),
    );
    const finish = (value: T) => {
      open.delete(cancel);
      for (const el of opts.inertWhileOpen) el.inert = false;
      dialog.close();
      dialog.remove();
      scrim.remove();
      if (previous?.isConnected) previous.focus();
      resolve(value);
    };
    const cancel = () => finish(opts.cancelValue);
    open.add(cancel);
    for (const el of opts.inertWhileOpen) el.inert = true;
    document.body.append(scrim, dialog);
    dialog.show();
    buttons[opts.choices.findIndex((c) => c.value === opts.cancelValue)]?.focus();
  });
}

export interface ConfirmOptions {
  readonly title: string;
  readonly body: readonly (Node | string)[];
  readonly confirm: string;
  readonly cancel: string;
  /** Elements made inert while the dialog is open (everything but the header). */
  readonly inertWhileOpen: readonly HTMLElement[];
}

/** Cancel or confirm (cancel focused first); resolves true when confirmed. */
export async function confirmDialog(opts: ConfirmOptions): Promise<boolean> {
  const answer = await choiceDialog({
    title: opts.title,
    body: opts.body,
    choices: [
      { value: 'cancel', text: opts.cancel, kind: 'secondary' },
      { value: 'confirm', text: opts.confirm, kind: 'primary' },
    ],
    cancelValue: 'cancel',
    inertWhileOpen: opts.inertWhileOpen,
  });
  return answer === 'confirm';
}
