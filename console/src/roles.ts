// What each staff role may do, as the server's routes declare it (their
// x-roles in the OpenAPI document, docs/http-api.md#staff-roles). The console
// shows a role only what it may do; the server checks every call regardless.
export type Role = 'user' | 'support' | 'operator' | 'finance' | 'admin';

const STAFF: Role[] = ['support', 'operator', 'finance', 'admin'];

export const CAN = {
  readOrders: STAFF,
  readUsers: STAFF,
  readAfterSales: STAFF,
  decideAfterSales: ['support', 'finance', 'admin'],
  receiveReturn: ['operator', 'finance', 'admin'],
  ship: ['operator', 'admin'],
  cancelOrder: ['operator', 'admin'],
  refund: ['finance', 'admin'],
  export: ['finance', 'admin'],
  manageProducts: ['operator', 'admin'],
  manageFlashSales: ['operator', 'admin'],
  setRoles: ['admin'],
  settings: ['admin'],
  deadLetters: ['admin'],
  contentFlags: ['admin'],
  audit: ['admin'],
} satisfies Record<string, Role[]>;

export type Ability = keyof typeof CAN;

export const can = (role: Role | undefined, ability: Ability): boolean =>
  role !== undefined && (CAN[ability] as Role[]).includes(role);
