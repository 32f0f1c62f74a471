// Loads configuration once, at boot: defaults < warden.yaml < .env < process
// environment. Every problem is reported at once, naming the variable.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { parse as parseDotenv } from 'dotenv';
import { parse as parseYaml } from 'yaml';

import { UserError } from '../errors.ts';
import { domains } from './domains.ts';
import { maskDeep } from './mask.ts';
import type { Domain, DomainValues, Setting } from './setting.ts';

/** The validated configuration: one object per domain, keyed by the domain's name. */
export type Config = {
  [D in (typeof domains)[number] as D['name']]: DomainValues<D>;
};

export type LoadConfigOptions = {
  /** Environment to read. @default process.env */
  env?: Record<string, string | undefined>;
  /** Directory holding `.env` and `warden.yaml`. @default process.cwd() */
  cwd?: string;
  /** Values that win over every source (CLI flags), keyed by env var name. */
  overrides?: Record<string, string | undefined>;
};

type AnyDomain = Domain<Record<string, Setting<unknown>>>;

export class ConfigError extends UserError {
  constructor(readonly problems: string[]) {
    super('invalid_config', `Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

function readYaml(path: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError([`${path}: not valid YAML: ${(err as Error).message}`]);
  }
  if (doc == null) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError([`${path}: must be a mapping of sections (server:, database:, ...)`]);
  }
  return doc as Record<string, unknown>;
}

/** Flattens warden.yaml (`server: {port: 80}`) into env var names (`WARDEN_PORT: "80"`). */
function yamlToEnv(doc: Record<string, unknown>, path: string, problems: string[]) {
  const out: Record<string, string> = {};
  for (const [section, values] of Object.entries(doc)) {
    const d = (domains as readonly AnyDomain[]).find((x) => x.name === section);
    if (!d) {
      problems.push(
        `${path}: unknown section "${section}" (known: ${domains.map((x) => x.name).join(', ')})`,
      );
      continue;
    }
    if (values == null) continue;
    if (typeof values !== 'object' || Array.isArray(values)) {
      problems.push(`${path}: section "${section}" must be a mapping`);
      continue;
    }
    for (const [key, value] of Object.entries(values)) {
      const s = d.settings[key];
      if (!s) {
        problems.push(
          `${path}: unknown setting "${section}.${key}" (known: ${Object.keys(d.settings).join(', ')})`,
        );
        continue;
      }
      if (value != null)
        out[s.env] = typeof value === 'object' ? JSON.stringify(value) : String(value);
    }
  }
  return out;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const problems: string[] = [];

  const yamlPath = resolve(cwd, env.WARDEN_CONFIG ?? 'warden.yaml');
  const fromYaml = existsSync(yamlPath) ? yamlToEnv(readYaml(yamlPath), yamlPath, problems) : {};
  if (env.WARDEN_CONFIG && !existsSync(yamlPath))
    problems.push(`WARDEN_CONFIG: file ${yamlPath} does not exist`);
  const dotenvPath = resolve(cwd, '.env');
  const fromDotenv = existsSync(dotenvPath) ? parseDotenv(readFileSync(dotenvPath)) : {};

  const merged: Record<string, string | undefined> = { ...fromYaml, ...fromDotenv };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;
  for (const [k, v] of Object.entries(options.overrides ?? {})) if (v !== undefined) merged[k] = v;

  const config: Record<string, Record<string, unknown>> = {};
  for (const d of domains as readonly AnyDomain[]) {
    const values: Record<string, unknown> = {};
    for (const [key, s] of Object.entries(d.settings)) {
      const raw = merged[s.env];
      if (raw === undefined || raw === '') {
        values[key] = s.default;
        continue;
      }
      const parsed = s.schema.safeParse(raw);
      if (parsed.success) values[key] = parsed.data;
      else {
        const why = parsed.error.issues.map((i) => i.message).join('; ');
        const shown = s.secret ? '(secret)' : JSON.stringify(raw);
        problems.push(`${s.env} (${d.name}.${key}): ${why}; got ${shown}`);
      }
    }
    config[d.name] = values;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config as unknown as Config;
}

/** The effective configuration as rows, secrets masked, for `warden config print`. */
export function describeConfig(config: Config) {
  return (domains as readonly AnyDomain[]).flatMap((d) =>
    Object.entries(d.settings).map(([key, s]) => {
      const value = (config as unknown as Record<string, Record<string, unknown>>)[d.name]?.[key];
      return {
        key: `${d.name}.${key}`,
        env: s.env,
        // URL-valued settings carry credentials too (userinfo, ?token=, /bot<token>/).
        value: s.secret && value !== undefined ? '********' : maskDeep(value),
        default: s.default,
      };
    }),
  );
}

/** The configuration table of docs/configuration.md, generated from the schemas. */
export function configTableMarkdown(): string {
  const lines = ['| Variable | Setting | Default | Description |', '| --- | --- | --- | --- |'];
  for (const d of domains as readonly AnyDomain[]) {
    for (const [key, s] of Object.entries(d.settings)) {
      const def = s.default === undefined ? '—' : `\`${String(s.default)}\``;
      lines.push(
        `| \`${s.env}\` | \`${d.name}.${key}\` | ${def} | ${s.doc.replace(/\|/g, '\\|')} |`,
      );
    }
  }
  return lines.join('\n');
}
