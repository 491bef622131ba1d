export * from './locker.error';
export * from './lock-wait-timeout.error';
export * from './lock-lost.error';
export * from './lock-released.error';
export * from './locker-closed.error';
export * from './locker-config.error';
export * from './lock-busy.error';
export * from './locker-not-ready.error';
