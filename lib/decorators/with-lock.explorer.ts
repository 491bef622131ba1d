import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { WITH_LOCK_METADATA } from '../locker.constants';
import { LockerHost } from '../locker-host';
import { LockedRuns } from '../acquisition/locked-runs';

/**
 * Tells `LockerHost` which app made each provider and controller with `@WithLock` methods, so that with
 * several apps in one process (the same class in each) a method locks through its own app.
 */
@Injectable()
export class WithLockExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly runs: LockedRuns,
  ) {}

  onModuleInit(): void {
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance: unknown = wrapper.instance;
      // request-scoped and transient instances are made later, per request or consumer: LockerHost falls back
      if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient || typeof instance !== 'object' || instance === null) continue;
      if (this.hasLockedMethod(instance)) LockerHost.bind(instance, this.runs);
    }
  }

  private hasLockedMethod(instance: object): boolean {
    const methods = this.scanner.getAllMethodNames(Object.getPrototypeOf(instance) as object);
    return methods.some((method) => {
      const value = (instance as Record<string, unknown>)[method];
      return typeof value === 'function' && Reflect.getMetadata(WITH_LOCK_METADATA, value) === true;
    });
  }
}
