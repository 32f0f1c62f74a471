// How many Redis commands this process has sent (warden_redis_commands_total).
// Kept apart from counted-redis.ts so that reading the count, which every
// process's metrics do, does not load ioredis in the embedded mode.
let sent = 0;

/** Counts one command handed to a Redis connection. */
export function countRedisCommand(): void {
  sent++;
}

/** Commands this process has handed to its Redis connections (a pipeline counts each). */
export function redisCommandsSent(): number {
  return sent;
}
