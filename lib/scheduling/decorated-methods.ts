import type { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { LockerConfigError } from '../errors';

/** A method of a singleton provider (or controller) that carries a decorator's metadata. */
export interface DecoratedMethod<M> {
  /** `Class.method`, as errors and logs name it. */
  owner: string;
  metadata: M;
  /** Calls the method on the provider's one instance. */
  call: (...args: unknown[]) => unknown;
}

/** Which decorator is looked for, and what it does with the one instance (for the refusal of a scoped provider). */
export interface DecoratorSearch {
  metadataKey: string;
  /** `@LockedInterval`, as errors name it. */
  decorator: string;
  /** What needs one instance: "run the loop on", "lead with". */
  needs: string;
}

/**
 * The app's methods that carry `search.metadataKey`. A request-scoped or transient provider has no one
 * instance to run them on (a provider becomes request-scoped by depending on one, too): one that carries the
 * metadata fails at bootstrap rather than never runs.
 */
export function findDecoratedMethods<M>(
  discovery: DiscoveryService,
  scanner: MetadataScanner,
  search: DecoratorSearch,
): DecoratedMethod<M>[] {
  return [...discovery.getProviders(), ...discovery.getControllers()].flatMap((wrapper) => methodsOf<M>(wrapper, scanner, search));
}

function methodsOf<M>(wrapper: InstanceWrapper, scanner: MetadataScanner, search: DecoratorSearch): DecoratedMethod<M>[] {
  const scoped = !wrapper.isDependencyTreeStatic() || wrapper.isTransient;
  const instance = scoped ? undefined : (wrapper.instance as Record<string, unknown> | undefined);
  // a scoped provider has no one instance: its class is looked at, to refuse it
  const prototype = (
    instance && typeof instance === 'object'
      ? Object.getPrototypeOf(instance)
      : scoped
        ? (wrapper.metatype as { prototype?: unknown } | null)?.prototype
        : undefined
  ) as Record<string, unknown> | undefined;
  if (!prototype || typeof prototype !== 'object') return [];
  return scanner.getAllMethodNames(prototype).flatMap((method) => {
    const target = prototype[method];
    const metadata = typeof target === 'function' ? (Reflect.getMetadata(search.metadataKey, target) as M | undefined) : undefined;
    if (metadata === undefined) return [];
    const owner = `${(prototype.constructor as { name: string }).name}.${method}`;
    if (!instance) {
      throw new LockerConfigError({
        section: `${search.decorator} on ${owner}`,
        message: `the provider is ${wrapper.isTransient ? 'transient' : 'request-scoped'}, so there is no single instance to ${search.needs}; expected a singleton provider (the default scope) that does not depend on a request-scoped one`,
      });
    }
    return [{ owner, metadata, call: (...args: unknown[]) => (target as (...args: unknown[]) => unknown).apply(instance, args) }];
  });
}
