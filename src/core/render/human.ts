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
import { samlTrustPolicy } from '../desired/federated-roles.js';
import { describeLeaver } from '../desired/leavers.js';
import type { PolicyDocument } from '../model/policy.js';
import { formatPolicy } from '../model/policy.js';
import type { Resource } from '../model/resources.js';
import { attrEntries } from '../model/resources.js';
import type { Action } from '../plan/action.js';
import { ACTIONS } from '../plan/action.js';
import type { AttrDiff, Change, Plan } from '../plan/change.js';
import { diffLines } from './line-diff.js';
import { countChanges, leaverActions, leaverLine } from './summary.js';

/** A warning that a wanted object exists in AWS but is not rolemap's, so it was left alone. */
export const LEFT_ALONE = /: exists (but is not owned by rolemap|without rolemap:owner=)[^;]*; left alone/;

export interface RenderOptions {
  readonly color: boolean;
  /**
   * One line per change with its reason, no attribute bodies: for an apply of a plan the operator has
   * already read (a saved plan, or `--auto-approve` after a dry run), so the terminal is not flooded.
   */
  readonly compact?: boolean | undefined;
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
    const trusts = new StandardTrusts();
    for (const c of plan.changes) out.push(...renderChange(c, paint, trusts, options.compact === true), ...(options.compact === true ? [] : ['']));
    if (options.compact === true) out.push('');
  }
  if (plan.warnings.length > 0) {
    out.push(paint('yellow', 'Warnings:'));
    for (const w of plan.warnings) out.push(`  ${paint('yellow', '!')} ${w}`);
    out.push('');
  }
  if (plan.refusal !== null) {
    out.push(...box(`Plan refused (${plan.refusal.code})`, plan.refusal.message, paint), '');
  }
  const leftAlone = plan.warnings.filter((w) => LEFT_ALONE.test(w)).length;
  const aside = leftAlone === 0 ? '' : ` ${leftAlone} wanted ${leftAlone === 1 ? 'object was' : 'objects were'} left alone because rolemap does not own ${leftAlone === 1 ? 'it' : 'them'} (see Warnings).`;
  if (plan.changes.length === 0) {
    out.push(paint('bold', 'No changes.') + (leftAlone === 0 ? ' AWS matches the directory and the role map.' : ' What rolemap owns matches the directory and the role map.') + aside);
  } else {
    const c = countChanges(plan.changes);
    const extra = leaverActions(c);
    out.push(`${paint('bold', 'Plan:')} ${c.add} to add, ${c.change} to change, ${c.destroy} to destroy${extra === '' ? '' : `; ${extra}`}.${aside}`);
    const leavers = leaverLine(plan.changes, plan.summary.leavers);
    if (leavers !== '') out.push(`${leavers}.`);
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

/**
 * rolemap's own SAML trust policy (samlTrustPolicy) is the same for every role of an account and
 * provider: printed in full the first time, then named with the change that showed it.
 */
class StandardTrusts {
  readonly #shownAt = new Map<string, number>();
  /** The line to print instead of the policy, or null to print it in full (first time, or not standard). */
  reference(r: Resource, seq: number): string | null {
    if (r.kind !== 'iam_role') return null;
    const policy = r.attrs.trustPolicy;
    const federated = (policy.Statement as readonly { Principal?: { Federated?: unknown } }[] | undefined)?.[0]?.Principal?.Federated;
    const provider = typeof federated === 'string' ? /:saml-provider\/(.+)$/.exec(federated)?.[1] : undefined;
    if (provider === undefined) return null;
    const standard = [false, true].some((tag) => formatPolicy(samlTrustPolicy(r.account, provider, tag)) === formatPolicy(policy));
    if (!standard) return null;
    const key = `${formatPolicy(policy)}`;
    const first = this.#shownAt.get(key);
    if (first === undefined) {
      this.#shownAt.set(key, seq);
      return null;
    }
    return `trustPolicy = rolemap's standard SAML trust of saml-provider/${provider}, as shown in #${first}`;
  }
}

function renderChange(c: Change, paint: Paint, trusts: StandardTrusts, compact: boolean): string[] {
  const mark = c.replace ? paint('red', '-/+') : paint(ACTION_STYLE[c.action], ACTIONS[c.action]);
  const deps = c.dependsOn.length > 0 ? paint('dim', `  (after #${c.dependsOn.join(', #')})`) : '';
  const verb = c.replace ? 'destroyed and then created again (replaced)' : pastTense(c.action);
  const lines = [`  #${c.seq} ${mark} ${paint('bold', c.address)} will be ${verb}${deps}`];
  lines.push(`      ${paint(c.leaver ? 'magenta' : 'dim', `# ${c.reason}`)}`);
  // The leaver is named once: in the reason when it says who left, else on a line of its own.
  if (c.leaver && !c.reason.includes(describeLeaver(c.leaver.name, c.leaver.reason))) lines.push(`      ${paint('magenta', `# leaver: ${describeLeaver(c.leaver.name, c.leaver.reason)}`)}`);
  if (compact) return lines;
  if (c.action === 'create' && c.after) lines.push(...renderAttrs(c.after, '+', paint, trusts.reference(c.after, c.seq)));
  else if (c.action !== 'delete') for (const d of c.diffs) lines.push(...renderDiff(d, paint));
  return lines;
}

function pastTense(a: Action): string {
  return { create: 'created', update: 'updated in-place', delete: 'destroyed', revoke: 'revoked (live sessions denied)', disable: 'disabled' }[a];
}

const INDENT = '      ';

function renderAttrs(r: Resource, op: '+', paint: Paint, trustReference: string | null = null): string[] {
  const attrs = r.attrs as unknown as Readonly<Record<string, unknown>>;
  const lines: string[] = [];
  for (const [name, type] of attrEntries(r.kind)) {
    const v = attrs[name];
    if (name === 'trustPolicy' && trustReference !== null) {
      lines.push(`${INDENT}${paint(OP_STYLE[op], op)} ${trustReference}`);
    } else if (type === 'policy') {
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
