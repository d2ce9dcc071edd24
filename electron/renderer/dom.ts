/**
 * A very small DOM toolkit: `h()` builds elements, `svgIcon()` builds the few icons the UI uses.
 * No inline styles and no innerHTML anywhere: the page runs under a strict Content-Security-Policy
 * (style-src 'self'), so every look comes from styles.css through classes and attributes.
 */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | null | EventListener>;

/** `h('button', {class: 'primary', onclick: fn, 'aria-label': 'x'}, 'text')`. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = String(value);
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replace every child of `el`. */
export function replaceChildren(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

/** Set text only when it changed (keeps screen readers and selections calm). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Toggle a boolean attribute such as hidden or disabled. */
export function setFlag(el: Element, name: string, on: boolean): void {
  if (on) {
    if (!el.hasAttribute(name)) el.setAttribute(name, '');
  } else if (el.hasAttribute(name)) el.removeAttribute(name);
}

export type IconName = 'stop' | 'warning' | 'info' | 'bolt' | 'off' | 'check' | 'cross' | 'bell' | 'pause' | 'play';

const SVG = 'http://www.w3.org/2000/svg';

/** Icon paths on a 24x24 grid; they always accompany text (colour is never the only signal). */
const ICONS: Record<IconName, string[]> = {
  stop: ['M7.5 2h9L22 7.5v9L16.5 22h-9L2 16.5v-9z', 'M7 12h10'],
  warning: ['M12 2 23 21H1z', 'M12 9v5', 'M12 17.5v.5'],
  info: ['M12 2a10 10 0 1 0 0 20a10 10 0 1 0 0-20z', 'M12 11v6', 'M12 7v.5'],
  bolt: ['M13 2 4 14h7l-1 8 9-12h-7z'],
  off: ['M12 2a10 10 0 1 0 0 20a10 10 0 1 0 0-20z', 'M6 12h12'],
  check: ['M4 12.5 9.5 18 20 6'],
  cross: ['M5 5l14 14', 'M19 5 5 19'],
  bell: ['M6 17V11a6 6 0 0 1 12 0v6l2 2H4z', 'M10 21h4'],
  pause: ['M8 5v14', 'M16 5v14'],
  play: ['M7 4v16l13-8z'],
};

/** A decorative icon (aria-hidden): the text next to it carries the meaning. */
export function svgIcon(name: IconName, extraClass = ''): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', `icon icon-${name}${extraClass ? ` ${extraClass}` : ''}`);
  for (const d of ICONS[name]) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    svg.appendChild(path);
  }
  return svg;
}

let idSeq = 0;
/** A unique element id for label/aria wiring. */
export function uid(prefix: string): string {
  idSeq += 1;
  return `${prefix}-${idSeq}`;
}
