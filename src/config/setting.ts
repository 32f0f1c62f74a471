// The building block of configuration: one setting is one environment
// variable with its zod schema, default and a one-line description. Domains
// group settings; docs/configuration.md's table is generated from them.
import { z } from 'zod';

export type Setting<T> = {
  env: string;
  schema: z.ZodType<T, z.ZodTypeDef, unknown>;
  default: T | undefined;
  doc: string;
  /** Masked by `warden config print` and in logs. @default false */
  secret: boolean;
};

type SettingOptions<T> = {
  env: string;
  schema: z.ZodType<T, z.ZodTypeDef, unknown>;
  doc: string;
  secret?: boolean;
};

export function setting<T>(
  options: SettingOptions<T> & { default: T },
): Setting<T> & { default: T };
export function setting<T>(options: SettingOptions<T>): Setting<T> & { default: undefined };
export function setting<T>(options: SettingOptions<T> & { default?: T }): Setting<T> {
  return {
    env: options.env,
    schema: options.schema,
    default: options.default,
    doc: options.doc,
    secret: options.secret ?? false,
  };
}

// Settings without a default are optional: their value is undefined when unset.
type SettingValue<S> =
  S extends Setting<infer T> ? (undefined extends S['default'] ? T | undefined : T) : never;

export type Domain<S extends Record<string, Setting<unknown>>, N extends string = string> = {
  name: N;
  doc: string;
  settings: S;
};

export type DomainValues<D> =
  D extends Domain<infer S, string> ? { [K in keyof S]: SettingValue<S[K]> } : never;

export function domain<N extends string, S extends Record<string, Setting<unknown>>>(
  name: N,
  doc: string,
  settings: S,
): Domain<S, N> {
  return { name, doc, settings };
}

/** Booleans from the environment: 1/0, true/false, yes/no, on/off. */
export const envBoolean = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  return v;
}, z.boolean());

/** A comma-separated list from the environment (an array as it is), blanks dropped, each item checked. */
export function commaList<T>(item: z.ZodType<T>, min = 0) {
  return z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : v,
    z.array(item).min(min),
  );
}

export const port = z.coerce.number().int().min(1).max(65535);

export const durationMs = z.coerce.number().int().min(0);
