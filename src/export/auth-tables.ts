import type { TableInfo } from '../catalog/types.js';

import { AUTH_USER_COLUMNS } from '../catalog/auth-users.js';

export { AUTH_USER_COLUMNS };

export const AUTH_USERS_FILE = 'auth_users';
export const AUTH_IDENTITIES_FILE = 'auth_identities';

/** auth.users reduced to AUTH_USER_COLUMNS, in that order. */
export function authUsersTable(users: TableInfo): TableInfo {
  const columns = AUTH_USER_COLUMNS.flatMap((name) => users.columns.filter((c) => c.name === name));
  return { ...users, columns };
}
