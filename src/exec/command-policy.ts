// Decides whether a free-form command line may run, and as which argv. The
// line is split without a shell (shell-words.ts); argv[0] must be a bare
// allowlisted name that resolves on a fixed PATH to a real file that is not
// an interpreter; each argument must pass that program's rules. Config
// patterns are one more layer on top, never the only one. Pure apart from
// the PATH lookup and the type of files a program opens, both injectable.
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { basename } from 'node:path';

import type { ArgRules, ProgramRule } from './program-rules.ts';
import { isInterpreter, programRules, runners } from './program-rules.ts';
import type { Refusal } from './shell-words.ts';
import { splitCommand } from './shell-words.ts';

/** The only directories programs are looked up in, whatever the caller's PATH. */
export const fixedPath = [
  '/usr/local/sbin',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/bin',
  '/sbin',
  '/bin',
];

export type PolicyDecision =
  | {
      allowed: true;
      rule: string;
      program: string;
      executable: string;
      argv: string[];
      /** The program inspects the host's network (ss, ip, pg_isready). */
      hostNetwork: boolean;
    }
  | ({ allowed: false } & Refusal);

export type CommandPolicyOptions = {
  /** Extra regular expressions refused on the raw line. @default [] */
  blockedPatterns?: readonly string[];
  /** Finds a program on the fixed PATH; returns its real path. @default resolveOnFixedPath */
  resolve?: (name: string) => string | undefined;
  /** What a path a program opens is, symlinks followed. @default fileTypeOf */
  fileType?: (path: string) => FileType;
};

export type FileType = 'directory' | 'file' | 'block' | 'special' | 'missing';

/** What `path` is once symlinks are followed: special is a character device, FIFO or socket. */
export function fileTypeOf(path: string): FileType {
  try {
    const st = statSync(path);
    if (st.isDirectory()) return 'directory';
    if (st.isFile()) return 'file';
    if (st.isBlockDevice()) return 'block';
    return 'special';
  } catch {
    return 'missing';
  }
}

/**
 * Where `name` is on the fixed PATH, or undefined when absent or not an
 * executable file. The PATH entry itself is returned, not its target:
 * wrappers such as Debian's pg_wrapper pick the real program by the name
 * they were started as.
 */
export function resolveOnFixedPath(name: string): string | undefined {
  for (const dir of fixedPath) {
    const candidate = `${dir}/${name}`;
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

const refuse = (rule: string, reason: string): PolicyDecision => ({ allowed: false, rule, reason });

function checkArgs(
  program: string,
  rules: ArgRules,
  args: string[],
  fileType: (path: string) => FileType,
): Refusal | undefined {
  const flags = new Set(rules.flags ?? []);
  const valued = rules.valued ?? {};
  let positional = 0;
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return { rule: `${program}.end_of_options`, reason: `"--" is not accepted` };
    if (flags.has(a)) {
      seen.add(a);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      const eq = a.indexOf('=');
      if (a.startsWith('--') && eq > 0) {
        const check = Object.hasOwn(valued, a.slice(0, eq)) ? valued[a.slice(0, eq)] : undefined;
        if (!check)
          return { rule: `${program}.flag`, reason: `flag ${a.slice(0, eq)} is not allowed` };
        if (!check.test(a.slice(eq + 1)))
          return { rule: `${program}.flag_value`, reason: `${a.slice(0, eq)} takes ${check.name}` };
        continue;
      }
      const check = Object.hasOwn(valued, a) ? valued[a] : undefined;
      if (check) {
        const v = args[++i];
        if (v === undefined || !check.test(v))
          return { rule: `${program}.flag_value`, reason: `${a} takes ${check.name}` };
        continue;
      }
      if (
        rules.letters &&
        /^-[A-Za-z0-9]+$/.test(a) &&
        [...a.slice(1)].every((c) => rules.letters!.includes(c))
      )
        continue;
      return { rule: `${program}.flag`, reason: `flag ${a} is not allowed` };
    }
    const pos = rules.positional;
    if (!pos || positional >= pos.max)
      return { rule: `${program}.argument`, reason: `unexpected argument ${JSON.stringify(a)}` };
    if (!pos.check.test(a))
      return { rule: `${program}.argument`, reason: `argument must be ${pos.check.name}` };
    if (pos.opens) {
      const type = fileType(a);
      if (type === 'missing')
        return { rule: `${program}.argument`, reason: `${JSON.stringify(a)} does not exist` };
      if (type === 'special')
        return {
          rule: `${program}.special_file`,
          reason: `${program} opens its arguments; ${JSON.stringify(a)} is a device, FIFO or socket`,
        };
    }
    positional++;
  }
  if (rules.required && !rules.required.some((f) => seen.has(f)))
    return {
      rule: `${program}.required_flag`,
      reason: `one of ${rules.required.join(', ')} is required`,
    };
  return undefined;
}

function checkProgram(
  program: string,
  rule: ProgramRule,
  args: string[],
  fileType: (path: string) => FileType,
): Refusal | undefined {
  if (!rule.subcommands) return checkArgs(program, rule, args, fileType);
  // Flags before the subcommand (`ip -br addr`) use the program's own rules.
  let i = 0;
  const leading: string[] = [];
  while (i < args.length && args[i]!.startsWith('-') && !Object.hasOwn(rule.subcommands, args[i]!))
    leading.push(args[i++]!);
  const pre = checkArgs(program, { flags: rule.flags, letters: rule.letters }, leading, fileType);
  if (pre) return pre;
  const sub = args[i];
  if (sub === undefined)
    return {
      rule: `${program}.subcommand`,
      reason: `a subcommand is required (${Object.keys(rule.subcommands).join(', ')})`,
    };
  const subRules = Object.hasOwn(rule.subcommands, sub) ? rule.subcommands[sub] : undefined;
  if (!subRules)
    return {
      rule: `${program}.subcommand`,
      reason: `subcommand ${JSON.stringify(sub)} is not allowed`,
    };
  return checkArgs(program, subRules, args.slice(i + 1), fileType);
}

export class CommandPolicy {
  private readonly blocked: RegExp[];
  private readonly resolve: (name: string) => string | undefined;
  private readonly fileType: (path: string) => FileType;

  constructor(options: CommandPolicyOptions = {}) {
    this.blocked = (options.blockedPatterns ?? []).map((p) => new RegExp(p));
    this.resolve = options.resolve ?? resolveOnFixedPath;
    this.fileType = options.fileType ?? fileTypeOf;
  }

  /** Allowlisted program names, for list_actions and the docs. */
  programs(): string[] {
    return Object.keys(programRules).sort();
  }

  evaluate(input: string): PolicyDecision {
    if (typeof input !== 'string') return refuse('input.type', 'the command must be a string');
    const split = splitCommand(input);
    if (!split.ok) return refuse(split.rule, split.reason);
    const [name, ...args] = split.words as [string, ...string[]];
    if (split.quoted[0]) return refuse('program.quoted', 'the program name may not be quoted');
    if (name.includes('='))
      return refuse('program.assignment', 'environment assignments are not accepted');
    if (name.includes('/'))
      return refuse('program.path', 'give the program by name; it is looked up on a fixed PATH');
    if (name.startsWith('-')) return refuse('program.not_allowed', `${name} is not a program`);
    if (isInterpreter(name))
      return refuse('program.interpreter', `${name} runs arbitrary code and is always refused`);
    if (runners.has(name))
      return refuse('program.runs_programs', `${name} starts other programs and is always refused`);
    const rule = Object.hasOwn(programRules, name) ? programRules[name] : undefined;
    if (!rule) return refuse('program.not_allowed', `${name} is not an allowed program`);
    const argProblem = checkProgram(name, rule, args, this.fileType);
    if (argProblem) return refuse(argProblem.rule, argProblem.reason);
    for (const b of this.blocked)
      if (b.test(input))
        return refuse('config.blocked_pattern', `matches blocked pattern ${b.source}`);
    const executable = this.resolve(name);
    if (!executable)
      return refuse('program.not_found', `${name} is not installed on ${fixedPath.join(':')}`);
    // A name can be a symlink to a multi-call binary or a shell.
    const real = basename(realPath(executable));
    if (real !== name && (isInterpreter(real) || runners.has(real)))
      return refuse(
        'program.resolves_to_interpreter',
        `${name} resolves to ${realPath(executable)}`,
      );
    return {
      allowed: true,
      rule: `allow.${name}`,
      program: name,
      executable,
      argv: [name, ...args],
      hostNetwork: rule.hostNetwork ?? false,
    };
  }
}
