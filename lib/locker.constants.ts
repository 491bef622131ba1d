/** DI tokens and metadata keys, namespaced so they cannot clash with the app's own. */
export const LOCKER_RESOLVED_CONFIG = 'nest-locker:resolved_config';
/** forRootAsync's `useClass` instance. */
export const LOCKER_CONFIG_FACTORY = 'nest-locker:config_factory';
export const LOCKER_MODULE_OPTIONS = 'nest-locker:module_options';
export const LOCKER_DRIVERS = 'nest-locker:drivers';
export const DEFAULT_SHUTDOWN_TIMEOUT = 10_000;
export const LOCKED_INTERVAL_METADATA = 'nest-locker:locked_interval';
export const WITH_LOCK_METADATA = 'nest-locker:with_lock';
/** How long shutdown gives the release of held locks (and late grants given back) once bodies are done, ms. */
export const SHUTDOWN_RELEASE_MS = 2_000;
/** How long shutdown gives the drivers to close their connections, ms. */
export const SHUTDOWN_CLOSE_MS = 2_000;
/** `LockerService.health()` reports a server down when it has not answered within this many ms. */
export const HEALTH_TIMEOUT_MS = 3_000;
export const ON_LEADERSHIP_METADATA = 'nest-locker:on_leadership';
