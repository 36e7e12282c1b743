/** Active/standby metrics, registered in the daemon's registry (so /metrics shows them). */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { HaStatus } from './ha-role.js';

export class HaMetrics {
  readonly active: Gauge;
  readonly epoch: Gauge;
  readonly leaseAge: Gauge;
  readonly takeovers: Counter<'kind'>;
  readonly fenced: Counter;

  constructor(registry: Registry, status: () => HaStatus | undefined) {
    const registers = [registry];
    this.active = new Gauge({ name: 'rolemap_ha_active', help: '1 while this daemon holds the lease and applies (active), 0 while standby.', registers });
    this.epoch = new Gauge({ name: 'rolemap_ha_epoch', help: 'Epoch of the lease held (active) or last seen (standby).', registers });
    this.leaseAge = new Gauge({
      name: 'rolemap_ha_lease_age_seconds',
      help: 'Seconds since the lease last seen was written (renewed or taken); -1: none seen yet.',
      registers,
      collect() {
        this.set(status()?.leaseAgeSeconds ?? -1);
      },
    });
    this.takeovers = new Counter({ name: 'rolemap_ha_acquired_total', help: 'Times this daemon took the lease: free, or takeover of an expired one.', labelNames: ['kind'], registers });
    this.fenced = new Counter({ name: 'rolemap_ha_fenced_total', help: 'Changes not sent because the lease was no longer this daemon\'s (fencing).', registers });
    this.active.set(0);
  }
}
