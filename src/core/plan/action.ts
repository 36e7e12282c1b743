/**
 * The fixed set of things a plan can do. The value is what the human plan prints in front of a change.
 * `revoke` and `disable` are a leaver's: cutting live sessions and switching off long-lived credentials.
 */
export const ACTIONS = {
  create: '+',
  update: '~',
  delete: '-',
  revoke: '!',
  disable: 'x',
} as const;
export type Action = keyof typeof ACTIONS;
