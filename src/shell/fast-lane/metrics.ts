/** The fast lane's Prometheus metrics, registered in the daemon's registry (so /metrics shows them). */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

export type PollResult = 'no-change' | 'changes' | 'full-read' | 'applied' | 'partial' | 'failed' | 'refused' | 'error' | 'waiting';

export class FastLaneMetrics {
  readonly polls: Counter<'result'>;
  readonly leavers: Counter<'reason'>;
  readonly lag: Histogram;
  readonly lastLag: Gauge;
  readonly lastPoll: Gauge;
  readonly watermark: Gauge;
  readonly awsCalls: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.polls = new Counter({ name: 'rolemap_fast_lane_polls_total', help: 'Fast-lane polls of the directory, by result.', labelNames: ['result'], registers });
    this.leavers = new Counter({ name: 'rolemap_fast_lane_leavers_total', help: 'Leavers the fast lane found and planned, by reason.', labelNames: ['reason'], registers });
    this.lag = new Histogram({
      name: 'rolemap_fast_lane_leaver_lag_seconds',
      help: 'From the AD change (whenChanged; the detection time when AD gives none) to the leaver\'s revocations applied.',
      buckets: [1, 5, 10, 15, 30, 45, 60, 90, 120, 300, 600],
      registers,
    });
    this.lastLag = new Gauge({ name: 'rolemap_fast_lane_last_leaver_lag_seconds', help: 'The leaver lag of the last leaver the fast lane handled.', registers });
    this.lastPoll = new Gauge({ name: 'rolemap_fast_lane_last_poll_timestamp_seconds', help: 'Unix time of the end of the last fast-lane poll (0: none yet).', registers });
    this.watermark = new Gauge({ name: 'rolemap_fast_lane_watermark_usn', help: 'The highestCommittedUSN the next incremental read starts above.', registers });
    this.awsCalls = new Counter({ name: 'rolemap_fast_lane_aws_calls_total', help: 'Mutating AWS calls the fast lane made (request ids journaled).', registers });
    this.lastPoll.set(0);
  }
}
