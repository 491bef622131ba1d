/** The DI token of the driver instance created for connection section `instanceId`. */
export function getLockerDriverToken(instanceId: string): string {
  return `nest-locker:driver:${instanceId}`;
}
