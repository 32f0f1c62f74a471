// Splits a command line into words without any shell. Anything a shell
// would interpret (operators, substitutions, expansions, redirections,
// globs, escapes, comments) is refused, quoted or not: there is no shell to
// protect, so a character that means something to one has no business here.
// Quotes only group words that contain spaces. Every refusal names a rule.

export type Refusal = { rule: string; reason: string };

export type SplitResult =
  { ok: true; words: string[]; quoted: boolean[] } | ({ ok: false } & Refusal);

/** Longest command line considered at all. */
export const maxInputLength = 1024;
export const maxWords = 32;
export const maxWordLength = 256;

// Characters that merely look like ASCII ones (or hide) are the classic way
// past a name check; the whole input is ASCII or it is refused.
const invisibleRanges: [number, number][] = [
  [0x00ad, 0x00ad], [0x034f, 0x034f], [0x061c, 0x061c], [0x115f, 0x1160], [0x17b4, 0x17b5],
  [0x180e, 0x180e], [0x200b, 0x200f], [0x202a, 0x202e], [0x2060, 0x206f], [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff], [0xe0000, 0xe007f],
]; // prettier-ignore
const invisible = {
  test: (ch: string) => {
    const c = ch.codePointAt(0)!;
    return invisibleRanges.some(([a, b]) => c >= a && c <= b) || /\p{Cf}/u.test(ch);
  },
};
// Punctuation that NFKD leaves alone but a reader takes for ASCII.
const confusable =
  /[\u2010-\u2015\u2018-\u201f\u2032-\u2037\u2044\u2212\u2215\u2216\u2223\u2236\u2758\u27e8\u27e9\u29f5\u29f8\u2e3a\u2e3b\u3008\u3009\u02b9-\u02bc\u02c2-\u02c6\u02d0\u02d6\u02dc\u037e]/u;
const unicodeSpace = /[\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;

function classifyNonAscii(ch: string): Refusal {
  const cp = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  if (invisible.test(ch))
    return { rule: 'input.invisible_character', reason: `invisible character ${cp}` };
  if (unicodeSpace.test(ch))
    return { rule: 'input.unicode_space', reason: `non-ASCII space ${cp}` };
  const folded = ch.normalize('NFKD').replace(/\p{M}/gu, '');
  if (
    confusable.test(ch) ||
    /^[\x21-\x7e]+$/.test(folded) ||
    /[\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Armenian}\p{Script=Cherokee}]/u.test(ch)
  )
    return {
      rule: 'input.lookalike_character',
      reason: `character ${cp} looks like ASCII but is not`,
    };
  return { rule: 'input.non_ascii', reason: `non-ASCII character ${cp}` };
}

function scanCharacters(input: string): Refusal | undefined {
  for (const ch of input) {
    const c = ch.codePointAt(0)!;
    if (c === 0) return { rule: 'input.nul', reason: 'NUL byte' };
    if (c === 0x0a || c === 0x0d)
      return { rule: 'input.newline', reason: 'a newline separates commands in a shell' };
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
      return { rule: 'input.control_character', reason: `control character 0x${c.toString(16)}` };
    if (c > 0x7e) return classifyNonAscii(ch);
  }
  return undefined;
}

// Ordered: the more specific pattern wins (`<(` before `<`, `$(` before `$`).
const syntaxRules: { rule: string; re: RegExp; reason: string }[] = [
  { rule: 'syntax.command_substitution', re: /\$\(|`/, reason: 'command substitution' },
  { rule: 'syntax.process_substitution', re: /[<>]\(/, reason: 'process substitution' },
  { rule: 'syntax.expansion', re: /[$]/, reason: 'parameter or arithmetic expansion' },
  { rule: 'syntax.operator', re: /[;&|()]/, reason: 'shell operator' },
  { rule: 'syntax.redirection', re: /[<>]/, reason: 'redirection' },
  { rule: 'syntax.glob', re: /[*?[\]]/, reason: 'glob pattern' },
  { rule: 'syntax.expansion', re: /[{}~!^]/, reason: 'brace, tilde or history expansion' },
  { rule: 'syntax.escape', re: /\\/, reason: 'backslash escape' },
  { rule: 'syntax.comment', re: /#/, reason: 'comment' },
];

export function splitCommand(input: string): SplitResult {
  if (input.length > maxInputLength)
    return {
      ok: false,
      rule: 'input.too_long',
      reason: `longer than ${maxInputLength} characters`,
    };
  const bad = scanCharacters(input);
  if (bad) return { ok: false, ...bad };
  // The earliest offending character names the rule; at one position the
  // more specific rule wins.
  let first: { at: number; rule: (typeof syntaxRules)[number]; text: string } | undefined;
  for (const rule of syntaxRules) {
    const m = rule.re.exec(input);
    if (m && (!first || m.index < first.at)) first = { at: m.index, rule, text: m[0] };
  }
  if (first)
    return {
      ok: false,
      rule: first.rule.rule,
      reason: `${first.rule.reason} (${JSON.stringify(first.text)} at ${first.at})`,
    };

  const words: string[] = [];
  const quoted: boolean[] = [];
  let word: string | undefined;
  let wasQuoted = false;
  let quote: '"' | "'" | undefined;
  for (const ch of input) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
      continue;
    }
    if (ch === ' ') {
      if (word !== undefined) {
        words.push(word);
        quoted.push(wasQuoted);
      }
      word = undefined;
      wasQuoted = false;
      continue;
    }
    word ??= '';
    if (ch === '"' || ch === "'") {
      quote = ch;
      wasQuoted = true;
    } else word += ch;
  }
  if (quote) return { ok: false, rule: 'syntax.unbalanced_quote', reason: `unclosed ${quote}` };
  if (word !== undefined) {
    words.push(word);
    quoted.push(wasQuoted);
  }
  if (words.length === 0) return { ok: false, rule: 'input.empty', reason: 'no command' };
  if (words.length > maxWords)
    return { ok: false, rule: 'input.too_many_words', reason: `more than ${maxWords} words` };
  for (const w of words) {
    if (w.length === 0) return { ok: false, rule: 'syntax.empty_word', reason: 'empty argument' };
    if (w.length > maxWordLength)
      return {
        ok: false,
        rule: 'input.word_too_long',
        reason: `a word longer than ${maxWordLength} characters`,
      };
  }
  return { ok: true, words, quoted };
}
