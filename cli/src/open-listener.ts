import { BlockList, isIP } from 'node:net';
import type { HeliosConfig, Logger } from '@helios/core';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6'); // also matches ::ffff:127.x.y.z, which BlockList maps to IPv4

/** Whether `host` (a gateway.host value) binds only the loopback interface: 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true; // RFC 6761: always loopback
  const family = isIP(bare);
  return family !== 0 && LOOPBACK.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * With auth off every request is tenant `default` and the read API serves every tenant's anomalies and
 * reports: fine on loopback or behind an authenticating proxy, not on an open interface. Logged once at
 * start, naming the config keys to change; returns whether it warned.
 */
export function warnWhenOpenWithoutAuth(gateway: HeliosConfig['gateway'], logger: Logger): boolean {
  if (gateway.auth.enabled || isLoopbackHost(gateway.host)) return false;
  logger.warn(
    { configKey: 'gateway.auth.enabled', host: gateway.host },
    `gateway.auth.enabled is false and gateway.host (${gateway.host}) is not a loopback address: anyone who reaches the port can send events and read every tenant's anomalies and reports. Turn gateway.auth.enabled on, or bind gateway.host to 127.0.0.1 behind an authenticating proxy`,
  );
  return true;
}
