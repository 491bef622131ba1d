export * from './lock.interface';
export * from './lock-options.interface';
export * from './lock-event.interface';
export * from './locker-config.interface';
export * from './locker-driver.interface';
export * from './with-lock-options.interface';
export * from './locked-interval-options.interface';
