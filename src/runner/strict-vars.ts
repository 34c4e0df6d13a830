// A role reading a variable that nobody defined is a mistake in the inventory or the role; it must
// stop with the variable's name, not render "undefined" into a config file.
import { UserError } from '../core/errors.ts';

// Properties that libraries probe on any object (promises, inspection, JSON): not variable reads.
const PASS_THROUGH = new Set(['then', 'toJSON', 'constructor', 'inspect', 'asymmetricMatch', '$$typeof']);

export function strictVars<V extends Record<string, unknown>>(vars: V, where: { role: string; host: string }): V {
  return new Proxy(vars, {
    get(target, key, receiver) {
      if (typeof key === 'symbol' || PASS_THROUGH.has(key) || key in target) return Reflect.get(target, key, receiver) as unknown;
      throw new UserError(
        `undefined variable '${key}' in role ${where.role}`,
        { host: where.host },
        `define it in the role's defaults, group_vars/, host_vars/, the play's vars, or with -e ${key}=...`,
      );
    },
  });
}
