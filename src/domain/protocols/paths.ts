/**
 * Paths into protocol files, written the way people read them: "phases[0].amplitude.maxMa".
 * Errors, warnings and the `verified`/`unverified` lists of a source all use this notation.
 */

/** Does a path such as "phases[0].amplitude.maxMa" name a value in the protocol? */
export function pathExists(root: unknown, fieldPath: string): boolean {
  const segments = parsePath(fieldPath);
  if (segments === undefined || segments.length === 0) return false;
  let node: unknown = root;
  for (const seg of segments) {
    if (typeof seg === 'number') {
      if (!Array.isArray(node) || seg >= node.length) return false;
      node = node[seg];
    } else {
      if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, seg)) return false;
      node = (node as Record<string, unknown>)[seg];
    }
  }
  return true;
}

/** "phases[0].amplitude.maxMa" -> ['phases', 0, 'amplitude', 'maxMa']; "" (the root) -> []; undefined if malformed. */
export function parsePath(fieldPath: string): (string | number)[] | undefined {
  if (fieldPath === '') return [];
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*(\[[0-9]+\]|\.[A-Za-z_$][A-Za-z0-9_$]*)*$/.test(fieldPath)) return undefined;
  const out: (string | number)[] = [];
  for (const m of fieldPath.matchAll(/([A-Za-z_$][A-Za-z0-9_$]*)|\[([0-9]+)\]/g)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
  }
  return out;
}

/** ['phases', 0, 'amplitude', 'maxMa'] -> "phases[0].amplitude.maxMa". */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const key = String(seg);
      out += /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? (out ? `.${key}` : key) : `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}
