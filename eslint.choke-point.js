// The `edn/choke-point` ESLint rule: "no SET, START or AMP frame without a Checked value"
// (ARCHITECTURE.md, "The choke point"), checked with the TypeScript type checker rather than a
// regular expression, so a renamed import, a verb held in a variable, or an `any` does not slip past.
//
// In src/** (the simulator excepted: it is the device, it answers these verbs) it reports:
//  1. a call that passes something that is not a `Checked<...>` (an `any`, a cast through unknown,
//     a plain object) where the callee's parameter is declared `Checked<...>`: the stimulating
//     encoders (src/device/stimulating.ts: setArgs, ampArgs) and the device client's stimulating
//     methods (src/device/client.ts: stage, start, setAmplitude), found by their parameter types,
//     not by their names;
//  2. a call that builds a stimulating frame: an argument whose type is one of the verbs SET, START,
//     AMP (a literal, or a variable or constant of that literal type), or an object argument whose
//     `verb` has that type, outside a function that was itself given a `Checked<...>` value;
//  3. an assertion to a `Checked<...>` type (`x as Checked<T>`, `<Checked<T>>x`) anywhere but in the
//     guard (src/domain/safety/guard.ts), the one module that issues them.
// tsc refuses most of these already; this rule holds when a type is widened to `any` or asserted,
// and it does not depend on the type check running first.
import path from 'node:path';
import ts from 'typescript';

const ROOT = import.meta.dirname;
const GUARD = 'src/domain/safety/guard.ts';
const STIMULATING_VERBS = new Set(['SET', 'START', 'AMP']);

const rel = (file) => path.relative(ROOT, file).split(path.sep).join('/');

function typePredicates() {
  /** The type is the guard's `Checked<...>` (its symbol declared in guard.ts). */
  const isCheckedItself = (type) => {
    const symbol = type.aliasSymbol ?? type.getSymbol();
    return Boolean(symbol && symbol.getName() === 'Checked' && (symbol.declarations ?? []).some((d) => rel(d.getSourceFile().fileName) === GUARD));
  };
  const nullish = (type) => (type.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.Void)) !== 0;
  const parts = (type) => (type.isUnion() ? type.types : [type]);
  return {
    /** A parameter that requires a Checked value: some constituent of its type is Checked. */
    requiresChecked: (type) => parts(type).some(isCheckedItself),
    /** An argument that is a Checked value: every constituent Checked (or nothing at all), never any. */
    isChecked: (type) => {
      if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return false;
      const p = parts(type).filter((t) => !nullish(t));
      return p.length > 0 && p.every(isCheckedItself);
    },
    /** The type is one of the stimulating verbs (a string literal or a union of only those). */
    isStimulatingVerb: (type) => {
      const p = parts(type);
      return p.length > 0 && p.every((t) => t.isStringLiteral() && STIMULATING_VERBS.has(t.value));
    },
  };
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'No SET, START or AMP frame without a Checked value (the stimulation choke point)' },
    schema: [],
    messages: {
      notChecked: "'{{callee}}' takes a Checked value here, and this argument is {{type}}: only the guard's Checked values may reach a stimulating encoder (SAFETY.md H1).",
      unguardedVerb: 'A stimulating frame ({{verb}}) is built here outside a function given a Checked value: stimulating frames come only from the device client\'s Checked-taking methods (SAFETY.md H1).',
      forgedChecked: 'An assertion to {{type}} outside the guard forges a Checked value: only src/domain/safety/guard.ts issues them (SAFETY.md H1).',
    },
  },
  create(context) {
    const services = context.sourceCode.parserServices;
    if (!services?.program || !services.esTreeNodeToTSNodeMap) {
      throw new Error('edn/choke-point needs type information (parserOptions.projectService)');
    }
    return createVisitors(context, services, services.program.getTypeChecker());
  },
};

function createVisitors(context, services, checker) {
  const file = rel(context.filename);
  const c = typePredicates();
  const typeOf = (node) => checker.getTypeAtLocation(services.esTreeNodeToTSNodeMap.get(node));
  const show = (type) => checker.typeToString(type);

  /** The nearest enclosing function was given a Checked value (one of its parameters is Checked). */
  const insideCheckedFunction = (node) => {
    for (let n = node.parent; n; n = n.parent) {
      if (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression') {
        return n.params.some((p) => c.requiresChecked(typeOf(p.type === 'TSParameterProperty' ? p.parameter : p)));
      }
    }
    return false;
  };

  const checkCall = (node) => {
    const tsNode = services.esTreeNodeToTSNodeMap.get(node);
    const signature = checker.getResolvedSignature(tsNode);
    if (signature) {
      const params = signature.getParameters();
      node.arguments.forEach((arg, i) => {
        const param = params[i];
        if (!param || arg.type === 'SpreadElement') return;
        const declared = checker.getTypeOfSymbolAtLocation(param, tsNode);
        if (!c.requiresChecked(declared)) return;
        const actual = typeOf(arg);
        if (!c.isChecked(actual)) {
          const callee = node.callee.type === 'MemberExpression' ? context.sourceCode.getText(node.callee.property) : context.sourceCode.getText(node.callee);
          context.report({ node: arg, messageId: 'notChecked', data: { callee, type: show(actual) } });
        }
      });
    }
    for (const arg of node.arguments) {
      let verbType;
      if (arg.type === 'ObjectExpression') {
        const verb = arg.properties.find((p) => p.type === 'Property' && !p.computed && ((p.key.type === 'Identifier' && p.key.name === 'verb') || (p.key.type === 'Literal' && p.key.value === 'verb')));
        if (verb) verbType = typeOf(verb.value);
      } else if (arg.type !== 'SpreadElement') {
        verbType = typeOf(arg);
      }
      if (verbType && c.isStimulatingVerb(verbType) && !insideCheckedFunction(node)) {
        context.report({ node: arg, messageId: 'unguardedVerb', data: { verb: show(verbType).replace(/"/g, '') } });
      }
    }
  };

  const checkAssertion = (node) => {
    if (file === GUARD) return;
    const target = typeOf(node.typeAnnotation);
    if (c.requiresChecked(target)) context.report({ node, messageId: 'forgedChecked', data: { type: show(target) } });
  };

  return {
    CallExpression: checkCall,
    NewExpression: checkCall,
    TSAsExpression: checkAssertion,
    TSTypeAssertion: checkAssertion,
  };
}

export const chokePointPlugin = { rules: { 'choke-point': rule } };
