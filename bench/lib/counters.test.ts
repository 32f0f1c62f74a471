import { describe, expect, it } from 'vitest';

import { commandCalls, parseCommandstats, sumMetric } from './counters.ts';

describe('sumMetric', () => {
  const text = [
    '# HELP warden_db_statements_total Statements sent.',
    '# TYPE warden_db_statements_total counter',
    'warden_db_statements_total{kind="select"} 120',
    'warden_db_statements_total{kind="insert",table="a b"} 30',
    'warden_db_statements_total_created 1700000000',
    'warden_http_requests_total{route="/x"} 7',
    '',
  ].join('\n');

  it('sums every labelled sample of the metric and nothing else', () => {
    expect(sumMetric(text, 'warden_db_statements_total')).toBe(150);
    expect(sumMetric(text, 'warden_http_requests_total')).toBe(7);
  });

  it('is undefined when the metric is missing, so the report can say so', () => {
    expect(sumMetric(text, 'warden_redis_commands_total')).toBeUndefined();
  });
});

describe('Redis commandstats', () => {
  const before = parseCommandstats(
    '# Commandstats\r\ncmdstat_evalsha:calls=10,usec=100,usec_per_call=10.00\r\ncmdstat_info:calls=2,usec=5\r\n',
  );
  const after = parseCommandstats(
    '# Commandstats\r\ncmdstat_evalsha:calls=40,usec=400\r\ncmdstat_info:calls=4,usec=9\r\ncmdstat_publish:calls=30,usec=60\r\n',
  );

  it('parses calls per command', () => {
    expect(after.get('evalsha')).toBe(40);
    expect(after.get('publish')).toBe(30);
  });

  it('counts the calls between two readings, new commands included and the readings left out', () => {
    expect(commandCalls(before, after)).toBe(30 + 30);
  });
});
