import { LockerConfigError } from '../errors';
import { assertElectionName, resolveElectionOptions } from '../election/election-options';
import type { OnLeadershipOptions } from '../interfaces/election.interface';
import { ON_LEADERSHIP_METADATA } from '../locker.constants';
import { className } from '../utils/class-name';
import { assertDuration } from '../utils/lock-options';

/** What `@OnLeadership` records on its method, for the explorer. */
export interface OnLeadershipMetadata {
  name?: string;
  options: OnLeadershipOptions;
}

/**
 * Work that belongs to one instance at a time, for as long as it lives (a consumer, a feed, a cache warmer):
 * every instance campaigns for election `name` (default `ClassName.methodName`) at bootstrap; the leader's
 * method is called with an `AbortSignal` and leads while it runs. The signal aborts when leadership is lost or
 * the app shuts down; when the method returns or throws, the instance resigns and campaigns again after
 * `retryInterval`. At shutdown it resigns, so another instance leads at once.
 */
export function OnLeadership(name?: string, options?: OnLeadershipOptions): MethodDecorator;
export function OnLeadership(options: OnLeadershipOptions): MethodDecorator;
export function OnLeadership(nameOrOptions?: string | OnLeadershipOptions, options: OnLeadershipOptions = {}): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const where = `@OnLeadership on ${className(target)}.${String(propertyKey)}`;
    if (typeof descriptor.value !== 'function' || typeof target === 'function') {
      throw new LockerConfigError({ section: where, message: 'expected an instance method of a provider' });
    }
    const byName = typeof nameOrOptions === 'string' || nameOrOptions === undefined;
    const name = byName ? nameOrOptions : undefined;
    const given = byName ? options : nameOrOptions;
    if (name !== undefined) assertElectionName(name, where);
    resolveElectionOptions(given, where, ['retryInterval']);
    const { retryInterval } = given ?? {};
    if (retryInterval !== undefined) assertDuration(retryInterval, 'retryInterval', where);
    const metadata: OnLeadershipMetadata = { name, options: given ?? {} };
    Reflect.defineMetadata(ON_LEADERSHIP_METADATA, metadata, descriptor.value);
    return descriptor;
  };
}
