// Log lines reduced to templates, so that evidence recorded for one incident
// can be recognised in the logs of the next: the variable parts (numbers,
// ids, hosts, IPs, paths, times, hex) are masked, and lines that are the same
// message with different values are merged in the manner of Drain (a fixed-
// depth tree over the token count and the leading tokens, then a similarity
// threshold; differing tokens become a wildcard). Matching a template against
// a new line looks for the template's tokens as a contiguous run of the line's
// masked tokens, so a different log prefix (syslog, journald, JSON) does not
// hide a message.

/** The one wildcard a template holds where its lines differed. */
export const wildcard = '<*>';

// Order matters: the more specific shapes first, so an ISO time is not cut
// into numbers and an IP is not read as a host.
const masks: Array<[RegExp, string]> = [
  [
    /\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}\b/gi,
    '<time>',
  ],
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g, '<time>'],
  [/\b\d{1,2}\/[A-Z][a-z]{2}\/\d{4}(?::\d{2}){3}(?: [+-]\d{4})?/g, '<time>'],
  [/\b\d{4}[-/]\d{2}[-/]\d{2}\b/g, '<date>'],
  [/\b\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\b/g, '<time>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<id>'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b/g, '<ip>'],
  [/\b(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}\b/gi, '<ip>'],
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,}\b/gi, '<hex>'],
  [/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)]+/gi, '<url>'],
  [/(?<![\w.])(?:\/[\w.@%+~-]+){2,}\/?/g, '<path>'],
  [
    /\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:com|net|org|io|dev|cloud|internal|local|lan|svc|corp|example|co|de|uk|eu|us|fr|nl)(?::\d{1,5})?\b/gi,
    '<host>',
  ],
  [/(?<![\d.])\b(?=[a-z0-9_-]*\d)(?=[a-z0-9_-]*[a-z])[a-z0-9]+(?:[-_][a-z0-9]+)*\b/gi, '<id>'],
  [/[-+]?\b\d+(?:\.\d+)?(?:[a-z%]{1,3})?\b/gi, '<num>'],
];

const stamp = String.raw`(?:[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}|\d{4}[-/]\d{2}[-/]\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?|\d{2}:\d{2}:\d{2}(?:[.,]\d+)?)`;
// "Dec  1 03:04:05 web-01 nginx[311]: " and "2026-12-01T03:04:05Z web-01 app[9]: "
const levels = String.raw`(?:emerg|alert|crit(?:ical)?|err(?:or)?|warn(?:ing)?|notice|info|debug|fatal|panic|severe|log)`;
// The host is never a level word: "<time> ERROR restic: ..." is a level and a message.
const syslogPrefix = new RegExp(
  String.raw`^(?:<\d+>)?${stamp}\s+(?!\[?${levels}\b)\S+\s+[\w./@-]+(?:\[\d+\])?:\s*`,
  'i',
);
const stampPrefix = new RegExp(String.raw`^\[?${stamp}\]?\s*`);
const levelPrefix = new RegExp(String.raw`^\[?${levels}\]?:?\s+`, 'i');
const messageKeys = ['msg', 'message', 'MESSAGE', 'log', 'error', 'err'];

/**
 * The message of a log line without what only says where and when: a JSON
 * line's message field, else the line without its syslog, time and level
 * prefix. A template must not carry the prefix of the one format it was seen in.
 */
export function messageOf(line: string): string {
  const t = line.trim();
  if (t.startsWith('{') && t.endsWith('}')) {
    try {
      const o = JSON.parse(t) as Record<string, unknown>;
      const parts = messageKeys.map((k) => o[k]).filter((v) => typeof v === 'string');
      if (parts.length) return parts.join(' ');
    } catch {
      // not JSON after all: the line as it is
    }
  }
  let m = t.replace(syslogPrefix, '');
  m = m.replace(stampPrefix, '');
  return m.replace(levelPrefix, '');
}

/** The line with its variable parts masked, lower-cased, punctuation at token edges dropped. */
export function maskLine(line: string): string {
  // A template given back (a runbook, an export) keeps its wildcards.
  let out = line.replaceAll(wildcard, ' <any> ');
  for (const [re, token] of masks) out = out.replace(re, token);
  return tokens(out).join(' ');
}

/** Word tokens: quotes, brackets, separators and trailing dots are not part of a message. */
function tokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\w<>./-]+/)
    .map((t) => t.replace(/^[./-]+|[./-]+$/g, ''))
    .filter((t) => t.length > 0);
}

const isVariable = (t: string) => t.startsWith('<') && t.endsWith('>');

/**
 * A template's tokens with the variable ones leading it dropped: a log
 * prefix (time, host, pid) is never what tells two causes apart.
 */
function core(ts: string[]): string[] {
  let i = 0;
  while (i < ts.length && isVariable(ts[i]!)) i++;
  let j = ts.length;
  while (j > i && isVariable(ts[j - 1]!)) j--;
  return ts.slice(i, j);
}

type Cluster = { tokens: string[]; count: number };

export type MineOptions = {
  /** Share of equal tokens a line needs to join a cluster. @default 0.6 */
  similarity?: number;
  /** Leading tokens the tree branches on. @default 2 */
  depth?: number;
};

/**
 * Drain: lines are grouped by token count, then by their first `depth`
 * literal tokens; within a group a line joins the most similar cluster above
 * the threshold (its differing tokens become wildcards) or starts its own.
 * Returns the templates, most frequent first, without their variable edges.
 */
export function mineTemplates(lines: readonly string[], options: MineOptions = {}): string[] {
  return mineTemplateCounts(lines, options).map((x) => x.template);
}

/**
 * At most `max` templates, the rarest first: what repeats is a service's
 * usual noise, and a cap that kept only that would confirm any look-alike.
 */
export function rarestTemplates(lines: readonly string[], max: number): string[] {
  return mineTemplateCounts(lines)
    .sort((a, b) => a.count - b.count)
    .slice(0, max)
    .map((x) => x.template);
}

/** The templates with how many lines each stands for, most frequent first. */
export function mineTemplateCounts(
  lines: readonly string[],
  options: MineOptions = {},
): Array<{ template: string; count: number }> {
  const similarity = options.similarity ?? 0.6;
  const depth = options.depth ?? 2;
  const tree = new Map<string, Cluster[]>();
  for (const line of lines) {
    const ts = tokens(maskLine(messageOf(line)));
    if (ts.length === 0) continue;
    const key = [
      ts.length,
      ...ts.slice(0, depth).map((t) => (isVariable(t) || /\d/.test(t) ? wildcard : t)),
    ].join('\u0000');
    const group = tree.get(key) ?? [];
    tree.set(key, group);
    let best: Cluster | undefined;
    let bestSim = -1;
    for (const c of group) {
      let same = 0;
      for (let i = 0; i < ts.length; i++) if (c.tokens[i] === ts[i]) same++;
      const sim = same / ts.length;
      if (sim > bestSim) [best, bestSim] = [c, sim];
    }
    if (best && bestSim >= similarity) {
      best.tokens = best.tokens.map((t, i) => (t === ts[i] ? t : wildcard));
      best.count++;
    } else group.push({ tokens: ts, count: 1 });
  }
  const seen = new Set<string>();
  const out: Array<{ t: string; count: number }> = [];
  for (const group of tree.values())
    for (const c of group) {
      const t = core(c.tokens).join(' ');
      // A template of nothing but wildcards and masks says nothing.
      if (literals(c.tokens).length < minLiterals || seen.has(t)) continue;
      seen.add(t);
      out.push({ t, count: c.count });
    }
  return out.sort((a, b) => b.count - a.count).map((x) => ({ template: x.t, count: x.count }));
}

/** The literal words of a token list: what matching compares. */
const literals = (ts: readonly string[]) => ts.filter((t) => !isVariable(t));

/** A template needs this many literal words to tell anything apart. */
const minLiterals = 2;

/**
 * Whether the template's literal words appear, in order and next to each
 * other, among the line's literal words. Masked values are skipped on both
 * sides, so one value more or less in a prefix does not matter.
 */
function matchesTokens(template: readonly string[], line: readonly string[]): boolean {
  if (template.length === 0 || template.length > line.length) return false;
  outer: for (let start = 0; start + template.length <= line.length; start++) {
    for (let i = 0; i < template.length; i++) if (template[i] !== line[start + i]) continue outer;
    return true;
  }
  return false;
}

/** Masked lines of a text (their literal words), ready to be matched against many templates. */
export type MaskedText = string[][];

export function maskText(text: string): MaskedText {
  return text
    .split(/\r?\n/)
    .map((l) => literals(maskLine(messageOf(l)).split(' ')))
    .filter((l) => l.length > 0);
}

/** Whether any line of the masked text holds the template. */
export function templateFound(template: string, text: MaskedText): boolean {
  const t = literals(template.split(' ').filter(Boolean));
  return t.length > 0 && text.some((line) => matchesTokens(t, line));
}
