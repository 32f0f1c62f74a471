import { describe, expect, it } from 'vitest';

import { withoutName } from './incident-memory.ts';

describe('withoutName', () => {
  it('blanks whole-word occurrences in any case, however the name is spelt', () => {
    expect(withoutName('Demo is down; demo=1 (demo)', 'demo')).toBe('  is down;  =1 ( )');
    expect(withoutName('api.example.com: TLS expired', 'api.example.com')).toBe(' : TLS expired');
    expect(withoutName('orders-api is down', 'orders-api')).toBe('  is down');
  });

  it('leaves longer words that contain the name, and names with regex characters literal', () => {
    expect(withoutName('demo2 and demos and my_demo', 'demo')).toBe('demo2 and demos and my_demo');
    expect(withoutName('apixexample is fine', 'api.example')).toBe('apixexample is fine');
    expect(withoutName('nothing to do', '  ')).toBe('nothing to do');
  });
});
