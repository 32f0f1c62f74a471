// Every Redis connection Warden opens is a CountedRedis, so that the process
// can say how many commands it sent (warden_redis_commands_total): Redis
// calls per execution are what bound the queue's rate. BullMQ's own extra
// connections are duplicates of ours, and a duplicate counts too.
import type { Command, RedisOptions } from 'ioredis';
import { Redis } from 'ioredis';

import { countRedisCommand } from './redis-command-count.ts';

type Options = Omit<RedisOptions, 'replyMapping'>;

export class CountedRedis extends Redis {
  constructor(url: string, options: Options);
  constructor(options: Options);
  constructor(a: string | Options, b?: Options) {
    if (typeof a === 'string') super(a, b ?? {});
    else super(a);
  }

  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]) {
    countRedisCommand();
    return super.sendCommand(command, stream);
  }

  override duplicate<O extends Partial<RedisOptions> | undefined = undefined>(
    override?: O,
  ): ReturnType<Redis['duplicate']> {
    const { replyMapping: _, ...options } = { ...this.options, ...override };
    return new CountedRedis(options);
  }
}
