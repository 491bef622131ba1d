import type { LockKey } from '../interfaces/with-lock-options.interface';
import type { WithPermitOptions } from '../interfaces/permit-options.interface';
import { permitSpec } from '../acquisition/lock-kind';
import { lockingDecorator } from './locking-decorator';

/**
 * Runs the method holding one of at most `limit` permits of the key across all processes:
 * `@WithPermit('partner-api', { limit: 3 })`. Keys, options and re-entrancy as `@WithLock`; a `limit` that is
 * not a whole number from 1 fails where the decorator is declared.
 */
export function WithPermit(key: LockKey, options: WithPermitOptions): MethodDecorator {
  const { limit, ...lockOptions } = typeof options === 'object' && options !== null ? options : ({} as Partial<WithPermitOptions>);
  return lockingDecorator('@WithPermit', key, typeof options === 'object' ? lockOptions : options, (where) => permitSpec(limit, where));
}
