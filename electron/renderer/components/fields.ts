/**
 * Form fields with their label, their allowed range beside them and their problems in words
 * below them (linked with aria-describedby, marked aria-invalid). Every control has a label.
 */
import { h, replaceChildren, setFlag, svgIcon, uid } from '../dom.js';
import { num } from '../../../src/domain/format.js';
import { type NumericField, parseNumber, rangeText, stepValue } from '../protocol-model.js';

export interface FieldHandle {
  readonly el: HTMLElement;
  /** The element that takes focus (for restoring focus after a re-render). */
  readonly control: HTMLElement;
  setMessages(errors: readonly string[], warnings?: readonly string[]): void;
}

function messageSlot(): { el: HTMLElement; set: (errors: readonly string[], warnings: readonly string[]) => void } {
  const el = h('div', { class: 'field-messages', id: uid('msg') });
  return {
    el,
    set(errors, warnings) {
      replaceChildren(
        el,
        errors.map((m) => h('p', { class: 'field-error' }, svgIcon('cross'), h('span', {}, m))),
        warnings.map((m) => h('p', { class: 'field-warning' }, svgIcon('warning'), h('span', {}, m))),
      );
    },
  };
}

function wire(control: HTMLElement, slot: { el: HTMLElement; set: (e: readonly string[], w: readonly string[]) => void }, extraDescribedBy?: string) {
  control.setAttribute('aria-describedby', [extraDescribedBy, slot.el.id].filter(Boolean).join(' '));
  return (errors: readonly string[], warnings: readonly string[] = []) => {
    slot.set(errors, warnings);
    setFlag(control, 'aria-invalid', false);
    if (errors.length > 0) control.setAttribute('aria-invalid', 'true');
  };
}

export interface StepperOptions {
  readonly label: string;
  readonly field: NumericField;
  readonly value: number | undefined;
  /** Called with the number typed or stepped to; undefined when empty, NaN when not a number. */
  readonly onInput: (value: number | undefined, text: string) => void;
  readonly path?: string;
  readonly hint?: string;
  readonly disabled?: boolean;
  /** Always show the field's decimals ("1.0 mA"), not the shortest form ("1"). */
  readonly fixed?: boolean;
}

/** A number input between "−" and "+" steppers, the unit and the allowed range beside it. */
export function stepper(opts: StepperOptions): FieldHandle & { input: HTMLInputElement; setValue(v: number | undefined): void } {
  const id = uid('num');
  const rangeId = uid('range');
  const f = opts.field;
  const show = (v: number): string => (opts.fixed ? v.toFixed(f.decimals) : num(v, f.decimals));
  const input = h('input', {
    id,
    type: 'text',
    inputmode: 'decimal',
    autocomplete: 'off',
    class: 'num-input',
    value: opts.value === undefined ? '' : show(opts.value),
    'data-path': opts.path,
    disabled: opts.disabled,
  });
  const slot = messageSlot();
  const setMessages = wire(input, slot, rangeId);
  const lower = opts.label.charAt(0).toLowerCase() + opts.label.slice(1);
  const emit = () => opts.onInput(parseNumber(input.value), input.value);
  const step = (dir: 1 | -1) => {
    const next = stepValue(f, parseNumber(input.value), dir);
    input.value = show(next);
    emit();
  };
  input.addEventListener('input', emit);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowUp') {
      e.preventDefault();
      step(1);
    } else if (e.key === 'ArrowDown') {
      e.preventDefault();
      step(-1);
    }
  });
  const minus = h('button', { type: 'button', class: 'step-btn', 'aria-label': `Decrease ${lower}`, title: `− ${num(f.step)}${f.unit ? ` ${f.unit}` : ''}`, disabled: opts.disabled, onclick: () => step(-1) }, '−');
  const plus = h('button', { type: 'button', class: 'step-btn', 'aria-label': `Increase ${lower}`, title: `+ ${num(f.step)}${f.unit ? ` ${f.unit}` : ''}`, disabled: opts.disabled, onclick: () => step(1) }, '+');
  const el = h(
    'div',
    { class: 'field field-number' },
    h('label', { for: id }, opts.label),
    h('div', { class: 'stepper' }, minus, input, plus, f.unit ? h('span', { class: 'unit' }, f.unit) : null),
    h('span', { class: 'range', id: rangeId }, `Allowed: ${rangeText(f)}`),
    opts.hint ? h('p', { class: 'hint' }, opts.hint) : null,
    slot.el,
  );
  return {
    el,
    control: input,
    input,
    setMessages,
    setValue(v) {
      input.value = v === undefined ? '' : show(v);
    },
  };
}

export interface TextOptions {
  readonly label: string;
  readonly value: string | undefined;
  readonly onInput: (value: string) => void;
  readonly path?: string;
  readonly hint?: string;
  readonly multiline?: boolean;
  readonly rows?: number;
  readonly maxLength?: number;
  readonly placeholder?: string;
  readonly autocomplete?: string;
}

export function textField(opts: TextOptions): FieldHandle {
  const id = uid('txt');
  const hintId = opts.hint ? uid('hint') : undefined;
  const control = opts.multiline
    ? h('textarea', { id, rows: opts.rows ?? 3, 'data-path': opts.path, maxlength: opts.maxLength, placeholder: opts.placeholder })
    : h('input', { id, type: 'text', 'data-path': opts.path, maxlength: opts.maxLength, placeholder: opts.placeholder, autocomplete: opts.autocomplete ?? 'off', spellcheck: 'false' });
  control.value = opts.value ?? '';
  control.addEventListener('input', () => opts.onInput(control.value));
  const slot = messageSlot();
  const setMessages = wire(control, slot, hintId);
  const el = h('div', { class: 'field' }, h('label', { for: id }, opts.label), opts.hint ? h('p', { class: 'hint', id: hintId }, opts.hint) : null, control, slot.el);
  return { el, control, setMessages };
}

export interface SelectOptions {
  readonly label: string;
  readonly value: string | undefined;
  readonly options: readonly { value: string; text: string }[];
  readonly onChange: (value: string) => void;
  readonly path?: string;
  readonly hint?: string;
}

export function selectField(opts: SelectOptions): FieldHandle {
  const id = uid('sel');
  const control = h('select', { id, 'data-path': opts.path }, ...opts.options.map((o) => h('option', { value: o.value }, o.text)));
  if (opts.value !== undefined && !opts.options.some((o) => o.value === opts.value)) control.prepend(h('option', { value: opts.value }, opts.value));
  control.value = opts.value ?? '';
  control.addEventListener('change', () => opts.onChange(control.value));
  const slot = messageSlot();
  const setMessages = wire(control, slot);
  const el = h('div', { class: 'field' }, h('label', { for: id }, opts.label), opts.hint ? h('p', { class: 'hint' }, opts.hint) : null, control, slot.el);
  return { el, control, setMessages };
}

export interface RadioOptions<T extends string> {
  readonly legend: string;
  readonly value: T | undefined;
  readonly options: readonly { value: T; text: string }[];
  readonly onChange: (value: T) => void;
  readonly path?: string;
  readonly name?: string;
  readonly inline?: boolean;
}

/** A fieldset of radio buttons; the label around each radio makes a 44 px target. */
export function radioGroup<T extends string>(opts: RadioOptions<T>): FieldHandle & { inputs: HTMLInputElement[] } {
  const name = opts.name ?? uid('radio');
  const inputs: HTMLInputElement[] = [];
  const slot = messageSlot();
  const items = opts.options.map((o) => {
    const input = h('input', { type: 'radio', name, value: o.value, 'data-path': opts.path });
    input.checked = o.value === opts.value;
    input.addEventListener('change', () => {
      if (input.checked) opts.onChange(o.value);
    });
    inputs.push(input);
    return h('label', { class: 'choice' }, input, h('span', {}, o.text));
  });
  const fieldset = h('fieldset', { class: `field radio-group${opts.inline ? ' inline' : ''}`, 'aria-describedby': slot.el.id }, h('legend', {}, opts.legend), h('div', { class: 'choices' }, items), slot.el);
  return {
    el: fieldset,
    control: inputs[0] ?? fieldset,
    inputs,
    setMessages(errors, warnings = []) {
      slot.set(errors, warnings);
      setFlag(fieldset, 'data-invalid', errors.length > 0);
    },
  };
}
