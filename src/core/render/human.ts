/**
 * The plan for people, in the manner of `terraform plan`:
 *
 *   + create    iam_role.prod.Admin
 *   ~ update    identitystore_user.jdoe          attribute-level diff, policies line by line
 *   - destroy   identitystore_membership.Ops/jdoe
 *   ! revoke    iam_role_revocations.prod.Admin  a leaver's live sessions
 *   x disable   iam_user_credentials.prod.jdoe   a leaver's long-lived credentials
 *
 * then warnings, the refusal (if any) in a box, and the summary line.
 */
import { describeLeaver } from '../desired/leavers.js';
import type { PolicyDocument } from '../model/policy.js';
import { formatPolicy } from '../model/policy.js';
import type { Resource } from '../model/resources.js';
import { attrEntries } from '../model/resources.js';
import type { Action } from '../plan/action.js';
import { ACTIONS } from '../plan/action.js';
import type { AttrDiff, Change, Plan } from '../plan/change.js';
import { diffLines } from './line-diff.js';

export interface RenderOptions {
  readonly color: boolean;
}

const VERB: Record<Action, string> = {
  create: 'create',
  update: 'update in-place',
  delete: 'destroy',
  revoke: 'revoke sessions',
  disable: 'disable credentials',
};

const ANSI = { green: '\u001b[32m', yellow: '\u001b[33m', red: '\u001b[31m', magenta: '\u001b[35m', bold: '\u001b[1m', dim: '\u001b[2m', reset: '\u001b[0m' };
type Paint = (style: keyof typeof ANSI, text: string) => string;

const ACTION_STYLE: Record<Action, keyof typeof ANSI> = { create: 'green', update: 'yellow', delete: 'red', revoke: 'magenta', disable: 'magenta' };
const OP_STYLE = { '+': 'green', '-': 'red', '~': 'yellow', ' ': 'dim' } as const;

export function renderPlan(plan: Plan, options: RenderOptions): string {
  const paint: Paint = options.color ? (style, text) => `${ANSI[style]}${text}${ANSI.reset}` : (_s, text) => text;
  const out: string[] = [];
  if (plan.changes.length > 0) {
    out.push('rolemap will perform the following actions:', '');
    out.push(...legend(plan, paint), '');
    for (const c of plan.changes) out.push(...renderChange(c, paint), '');
  }
  if (plan.warnings.length > 0) {
    out.push(paint('yellow', 'Warnings:'));
    for (const w of plan.warnings) out.push(`  ${paint('yellow', '!')} ${w}`);
    out.push('');
  }
  if (plan.refusal !== null) {
    out.push(...box(`Plan refused (${plan.refusal.code})`, plan.refusal.message, paint), '');
  }
  const s = plan.summary;
  if (plan.changes.length === 0) {
    out.push(paint('bold', 'No changes.') + ' AWS matches the directory and the role map.');
  } else {
    out.push(`${paint('bold', 'Plan:')} ${s.add} to add, ${s.change} to change, ${s.destroy} to destroy, ${s.leavers} ${s.leavers === 1 ? 'leaver' : 'leavers'} to disable.`);
  }
  return `${out.join('\n')}\n`;
}

function legend(plan: Plan, paint: Paint): string[] {
  const used = new Set(plan.changes.map((c) => c.action));
  return [
    'Actions are marked with the following symbols:',
    ...(Object.keys(ACTIONS) as Action[]).filter((a) => used.has(a)).map((a) => `  ${paint(ACTION_STYLE[a], ACTIONS[a])} ${VERB[a]}`),
    ...(plan.changes.some((c) => c.replace) ? [`  ${paint('red', '-/+')} destroy and then create replacement`] : []),
  ];
}

function renderChange(c: Change, paint: Paint): string[] {
  const mark = c.replace ? paint('red', '-/+') : paint(ACTION_STYLE[c.action], ACTIONS[c.action]);
  const deps = c.dependsOn.length > 0 ? paint('dim', `  (after #${c.dependsOn.join(', #')})`) : '';
  const verb = c.replace ? 'destroyed and then created again (replaced)' : pastTense(c.action);
  const lines = [`  #${c.seq} ${mark} ${paint('bold', c.address)} will be ${verb}${deps}`];
  lines.push(`      ${paint(c.leaver ? 'magenta' : 'dim', `# ${c.reason}`)}`);
  // The leaver is named once: in the reason when it says who left, else on a line of its own.
  if (c.leaver && !c.reason.includes(describeLeaver(c.leaver.name, c.leaver.reason))) lines.push(`      ${paint('magenta', `# leaver: ${describeLeaver(c.leaver.name, c.leaver.reason)}`)}`);
  if (c.action === 'create' && c.after) lines.push(...renderAttrs(c.after, '+', paint));
  else if (c.action !== 'delete') for (const d of c.diffs) lines.push(...renderDiff(d, paint));
  return lines;
}

function pastTense(a: Action): string {
  return { create: 'created', update: 'updated in-place', delete: 'destroyed', revoke: 'revoked (live sessions denied)', disable: 'disabled' }[a];
}

const INDENT = '      ';

function renderAttrs(r: Resource, op: '+', paint: Paint): string[] {
  const attrs = r.attrs as unknown as Readonly<Record<string, unknown>>;
  const lines: string[] = [];
  for (const [name, type] of attrEntries(r.kind)) {
    const v = attrs[name];
    if (type === 'policy') {
      if (v === null || v === undefined) lines.push(`${INDENT}${paint(OP_STYLE[op], op)} ${name} = null`);
      else {
        lines.push(`${INDENT}${paint(OP_STYLE[op], op)} ${name} = <<POLICY`);
        for (const l of formatPolicy(v as PolicyDocument).split('\n')) lines.push(`${INDENT}    ${paint(OP_STYLE[op], op)} ${l}`);
        lines.push(`${INDENT}    POLICY`);
      }
    } else if (type === 'policyMap') {
      const map = (v ?? {}) as Record<string, PolicyDocument>;
      for (const k of Object.keys(map).sort()) {
        lines.push(`${INDENT}${paint(OP_STYLE[op], op)} ${name}[${JSON.stringify(k)}] = <<POLICY`);
        for (const l of formatPolicy(map[k] as PolicyDocument).split('\n')) lines.push(`${INDENT}    ${paint(OP_STYLE[op], op)} ${l}`);
        lines.push(`${INDENT}    POLICY`);
      }
    } else if (type === 'stringMap') {
      const map = (v ?? {}) as Record<string, string>;
      for (const k of Object.keys(map).sort()) lines.push(`${INDENT}${paint(OP_STYLE[op], op)} ${name}[${JSON.stringify(k)}] = ${JSON.stringify(map[k])}`);
    } else if (type === 'set') {
      lines.push(`${INDENT}${paint(OP_STYLE[op], op)} ${name} = ${fmt([...((v ?? []) as string[])].sort())}`);
    } else {
      lines.push(`${INDENT}${paint(OP_STYLE[op], op)} ${name} = ${fmt(v)}`);
    }
  }
  return lines;
}

function renderDiff(d: AttrDiff, paint: Paint): string[] {
  const p = (op: '+' | '-' | '~' | ' ', text: string): string => `${INDENT}${paint(OP_STYLE[op], op)} ${text}`;
  switch (d.type) {
    case 'scalar':
      return [p('~', `${d.name} = ${fmt(d.before)} -> ${fmt(d.after)}`)];
    case 'set': {
      const before = new Set((d.before ?? []) as string[]);
      const after = new Set((d.after ?? []) as string[]);
      const lines: string[] = [];
      for (const x of [...before].filter((x) => !after.has(x)).sort()) lines.push(p('-', `${d.name} ${fmt(x)}`));
      for (const x of [...after].filter((x) => !before.has(x)).sort()) lines.push(p('+', `${d.name} ${fmt(x)}`));
      return lines;
    }
    case 'stringMap': {
      const before = (d.before ?? {}) as Record<string, string>;
      const after = (d.after ?? {}) as Record<string, string>;
      const lines: string[] = [];
      for (const k of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
        const key = `${d.name}[${JSON.stringify(k)}]`;
        if (!Object.hasOwn(after, k)) lines.push(p('-', `${key} = ${fmt(before[k])}`));
        else if (!Object.hasOwn(before, k)) lines.push(p('+', `${key} = ${fmt(after[k])}`));
        else if (before[k] !== after[k]) lines.push(p('~', `${key} = ${fmt(before[k])} -> ${fmt(after[k])}`));
      }
      return lines;
    }
    case 'policy':
      return policyDiff(d.name, (d.before ?? null) as PolicyDocument | null, (d.after ?? null) as PolicyDocument | null, paint);
    case 'policyMap': {
      const before = (d.before ?? {}) as Record<string, PolicyDocument>;
      const after = (d.after ?? {}) as Record<string, PolicyDocument>;
      const lines: string[] = [];
      for (const k of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
        const b = before[k] ?? null;
        const a = after[k] ?? null;
        if (b !== null && a !== null && formatPolicy(b) === formatPolicy(a)) continue;
        lines.push(...policyDiff(`${d.name}[${JSON.stringify(k)}]`, b, a, paint));
      }
      return lines;
    }
  }
}

function policyDiff(name: string, before: PolicyDocument | null, after: PolicyDocument | null, paint: Paint): string[] {
  const b = before === null ? [] : formatPolicy(before).split('\n');
  const a = after === null ? [] : formatPolicy(after).split('\n');
  const op = before === null ? '+' : after === null ? '-' : '~';
  const lines = [`${INDENT}${paint(OP_STYLE[op], op)} ${name} = <<POLICY`];
  for (const l of diffLines(b, a)) lines.push(`${INDENT}    ${paint(OP_STYLE[l.op], l.op)} ${l.text}`);
  lines.push(`${INDENT}    POLICY`);
  return lines;
}

function fmt(v: unknown): string {
  return v === undefined ? 'null' : JSON.stringify(v);
}

function box(title: string, message: string, paint: Paint): string[] {
  const lines = [paint('red', '╷'), `${paint('red', '│')} ${paint('bold', `Error: ${title}`)}`, paint('red', '│')];
  for (const l of wrap(message, 100)) lines.push(`${paint('red', '│')} ${l}`);
  lines.push(paint('red', '╵'));
  return lines;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(line);
  return out;
}
