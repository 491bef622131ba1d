/**
 * What a fragment (a ```ts block of README.md or docs/*.md without an `import` line) may use without
 * defining it: the usual Nest and nest-locker names, and a few stand-ins for the reader's own code.
 * A block that imports anything is a whole module and must import all it uses (see docs/testing.md).
 */
export const CODE_BLOCK_PRELUDE = `import { Controller, Injectable, Module, Param, Post, type INestApplication } from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import { Cron } from '@nestjs/schedule';
import type { Redis } from 'ioredis';
import {
  LockContext,
  LockedInterval,
  LockerExceptionFilter,
  LockerModule,
  LockerService,
  LockWaitTimeoutError,
  loadLockerConfig,
  OnLeadership,
  WithLock,
  WithPermit,
  WithReadLock,
  WithWriteLock,
} from 'nest-locker';
// The reader's own code, as the fragments assume it:
declare const locker: LockerService; // an injected LockerService
declare const app: INestApplication; // the app in main.ts
declare const db: { write(row: object, options: { fencingToken: bigint }): Promise<void> };
declare const row: object;
declare function build(signal: AbortSignal): Promise<number>;
declare const REDIS_CLIENT: symbol; // the token of the app's own ioredis client
declare class RedisModule {} // the module that provides it
declare const tenant: string;
declare const order: object;
declare const partner: { quote(order: object): Promise<number> }; // a partner's API, limited per tenant
declare const cache: { read(): Promise<Map<string, number>>; rebuild(): Promise<void> }; // a price table
declare const feed: { consume(signal: AbortSignal): Promise<void> }; // a partner's feed: one consumer at a time
declare const myUrl: string; // where this instance answers
declare const signal: AbortSignal; // the caller's
`;
