/** DI tokens and metadata keys, namespaced so they cannot clash with the app's own. */
export const LOCKER_RESOLVED_CONFIG = 'nest-locker:resolved_config';
/** forRootAsync's `useClass` instance. */
export const LOCKER_CONFIG_FACTORY = 'nest-locker:config_factory';
export const LOCKER_MODULE_OPTIONS = 'nest-locker:module_options';
export const LOCKER_DRIVERS = 'nest-locker:drivers';
export const DEFAULT_SHUTDOWN_TIMEOUT = 10_000;
export const LOCKED_INTERVAL_METADATA = 'nest-locker:locked_interval';
