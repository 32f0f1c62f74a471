// Expression completions: paths from the data the previous nodes produced,
// $node references, functions; offered only inside an expression.
import { describe, expect, it } from 'vitest';

import { completionsAt, inExpression, itemPaths } from './autocomplete.ts';

const ctx = {
  json: { body: { name: 'Ada', 'first name': 'A' }, n: 2 },
  nodes: { 'Get status': [{ statusCode: 503, headers: { server: 'x' } }] },
  upstream: ['Get status', 'Hook'],
};
const labels = (text: string, force = false) =>
  completionsAt(text, text.length, ctx, { force })?.items.map((c) => c.label);

describe('expression completions', () => {
  it('lists the paths of an item, quoting names that are not identifiers', () => {
    expect(itemPaths(ctx.json)).toEqual(['body', 'body.name', 'body.`first name`', 'n']);
  });

  it('knows when the caret is inside an expression', () => {
    expect(inExpression('=body.')).toBe(true);
    expect(inExpression('hello {{ bo')).toBe(true);
    expect(inExpression('hello {{ x }} and ')).toBe(false);
    expect(inExpression('plain')).toBe(false);
  });

  it('offers paths of this item, then of named nodes, and the functions', () => {
    expect(labels('={{ $json.bo')).toEqual([
      '$json.body',
      '$json.body.name',
      '$json.body.`first name`',
    ]);
    expect(labels('={{ $node."Get st')).toEqual([
      '$node."Get status".json',
      '$node."Get status".items',
      '$node."Get status".json.statusCode',
      '$node."Get status".json.headers',
      '$node."Get status".json.headers.server',
    ]);
    // Upstream nodes without data are still offered by name.
    expect(labels('={{ $node."Ho')).toEqual(['$node."Hook".json', '$node."Hook".items']);
    expect(labels('={{ $upp')).toEqual(['$uppercase(']);
    expect(labels('=$count($node."Get status".json.h')).toEqual([
      '$node."Get status".json.headers',
      '$node."Get status".json.headers.server',
    ]);
  });

  it('writes node references with backticks where a double quote would need escaping (JSON)', () => {
    const text = '{"a": "={{ $node.`Get';
    expect(
      completionsAt(text, text.length, ctx, { quote: '`' })?.items.map((c) => c.label)[0],
    ).toBe('$node.`Get status`.json');
    const typedQuote = '{"a": "={{ $node."Get';
    expect(
      completionsAt(typedQuote, typedQuote.length, ctx, { quote: '`' })?.items.length,
    ).toBeGreaterThan(0);
  });

  it('says where the replaced token starts, and offers nothing outside expressions', () => {
    const text = 'x {{ $json.b';
    expect(completionsAt(text, text.length, ctx)?.from).toBe(5);
    expect(completionsAt('plain bo', 8, ctx)).toBeNull();
    expect(labels('={{ ')).toBeUndefined();
    expect(labels('={{ ', true)?.length).toBe(50);
  });
});
