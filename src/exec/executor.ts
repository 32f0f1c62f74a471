// The one way anything in Warden runs a command: free-form lines through the
// command policy, catalogue actions through their typed templates, both
// through the sandboxed runner, and every decision (refusals included) into
// the audit log before the answer goes back. Nothing here imports Fastify or
// MCP; the ops MCP server, the CLI and the healing pipeline call this.
import { readFileSync, statfsSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem, uptime } from 'node:os';

import { errorMessage } from '../errors.ts';
import type { ActionCatalogue, RenderedAction } from './action-catalogue.ts';
import { ActionRefused } from './action-catalogue.ts';
import type { AuditLog, Caller } from './audit-log.ts';
import { digest } from './audit-log.ts';
import type { CommandPolicy } from './command-policy.ts';
import type { DockerEngine } from './docker-engine.ts';
import type { RunResult, SandboxRunner } from './sandbox-runner.ts';

export type Risk = 'read' | 'change' | 'dangerous';

export type ExecOutcome =
  | { status: 'refused'; rule: string; reason: string }
  | {
      status: 'ran';
      rule: string;
      argv: string[];
      exitCode: number | null;
      timedOut: boolean;
      truncated: boolean;
      stdout: string;
      stderr: string;
      durationMs: number;
      verify?: { ok: boolean; exitCode: number | null; stdout: string; stderr: string };
      /** When the verify probe failed and the action names a rollback. */
      rollback?: ExecOutcome;
    }
  | { status: 'done'; rule: string; result: unknown; durationMs: number };

/** Whether an outcome succeeded, and its output as text (refusals say why). */
export function outcomeText(o: ExecOutcome): {
  ok: boolean;
  exitCode: number | null;
  output: string;
} {
  if (o.status === 'refused')
    return { ok: false, exitCode: null, output: `refused (${o.rule}): ${o.reason}` };
  if (o.status === 'done') return { ok: true, exitCode: 0, output: JSON.stringify(o.result) };
  const exitCode = o.timedOut ? null : o.exitCode;
  return { ok: exitCode === 0, exitCode, output: `${o.stdout}${o.stderr}`.trim() };
}

export type ExecutorOptions = {
  policy: CommandPolicy;
  runner: SandboxRunner;
  catalogue: ActionCatalogue;
  audit: AuditLog;
  docker: DockerEngine;
  /** Highest risk run without a human approval. @default 'change' */
  maxRisk?: Risk;
};

const riskOrder: Record<Risk, number> = { read: 0, change: 1, dangerous: 2 };

export function systemResources() {
  let disk:
    { path: string; totalBytes: number; freeBytes: number; usedPercent: number } | undefined;
  try {
    const s = statfsSync('/');
    const total = s.blocks * s.bsize;
    const free = s.bavail * s.bsize;
    disk = {
      path: '/',
      totalBytes: total,
      freeBytes: free,
      usedPercent: total ? Math.round(((total - free) / total) * 1000) / 10 : 0,
    };
  } catch {
    disk = undefined;
  }
  const total = totalmem();
  // free memory leaves out the page cache the kernel gives back on demand;
  // MemAvailable counts it, where the kernel reports it.
  let free = freemem();
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) free = Number(m[1]) * 1024;
  } catch {
    // not Linux: keep freemem()
  }
  return {
    cpus: cpus().length,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    uptimeSeconds: Math.round(uptime()),
    memory: {
      totalBytes: total,
      availableBytes: free,
      usedPercent: Math.round(((total - free) / total) * 1000) / 10,
    },
    disk,
  };
}

export class Executor {
  constructor(private readonly o: ExecutorOptions) {}

  get catalogue(): ActionCatalogue {
    return this.o.catalogue;
  }

  /** A free-form command line (execute_command). Always run as `read`. */
  async executeCommand(
    command: string,
    caller: Caller,
    signal?: AbortSignal,
  ): Promise<ExecOutcome> {
    const decision = this.o.policy.evaluate(command);
    if (!decision.allowed) {
      await this.o.audit.append({
        caller,
        operation: 'execute_command',
        input: command,
        decision: 'refused',
        rule: decision.rule,
      });
      return { status: 'refused', rule: decision.rule, reason: decision.reason };
    }
    return this.runAndAudit('execute_command', command, caller, decision.rule, {
      executable: decision.executable,
      argv: decision.argv,
      risk: 'read',
      network: decision.hostNetwork,
      signal,
    });
  }

  /** A catalogue action with parameters (run_action). */
  async runAction(
    name: string,
    params: Record<string, unknown>,
    caller: Caller,
    signal?: AbortSignal,
    isRollback = false,
    /** A person's approval: lets a `dangerous` action past the gate, and is audited. */
    approval?: { id: number; by: string },
  ): Promise<ExecOutcome> {
    const input = approval ? { action: name, params, approval } : { action: name, params };
    let rendered: RenderedAction;
    try {
      rendered = await this.o.catalogue.render(name, params);
    } catch (err) {
      if (!(err instanceof ActionRefused)) throw err;
      await this.o.audit.append({
        caller,
        operation: 'run_action',
        input,
        decision: 'refused',
        rule: err.rule,
      });
      return { status: 'refused', rule: err.rule, reason: err.message };
    }
    const { action } = rendered;
    if (!approval && riskOrder[action.risk] > riskOrder[this.o.maxRisk ?? 'change']) {
      const rule = 'gate.approval_required';
      await this.o.audit.append({
        caller,
        operation: 'run_action',
        input,
        decision: 'refused',
        rule,
      });
      return {
        status: 'refused',
        rule,
        reason: `${name} is ${action.risk}: it needs a human approval`,
      };
    }
    const rule = `action.${action.name}`;
    if (action.builtin) return this.builtin(action.builtin, rendered, input, caller, rule, signal);
    const out = await this.runAndAudit('run_action', input, caller, rule, {
      executable: rendered.executable!,
      argv: rendered.argv!,
      risk: action.risk,
      network: action.network,
      timeoutMs: action.timeoutMs,
      outputCapBytes: action.outputCapBytes,
      signal,
      readPaths: rendered.paths,
      verify: rendered.verify,
    });
    // A change that ran but does not verify is undone, once (a rollback is
    // never rolled back), through the catalogue like any other action.
    if (out.status === 'ran' && out.verify && !out.verify.ok && action.rollback && !isRollback) {
      const values = rendered.values;
      const rollbackParams = Object.fromEntries(
        Object.entries(action.rollback.params).map(([k, v]) => [
          k,
          v.replace(/\{([a-z0-9_]+)\}/g, (_, p: string) =>
            Object.hasOwn(values, p) ? values[p]! : '',
          ),
        ]),
      );
      out.rollback = await this.runAction(
        action.rollback.action,
        rollbackParams,
        caller,
        signal,
        true,
      );
    }
    return out;
  }

  private async builtin(
    which: NonNullable<RenderedAction['action']['builtin']>,
    rendered: RenderedAction,
    input: unknown,
    caller: Caller,
    rule: string,
    signal?: AbortSignal,
  ): Promise<ExecOutcome> {
    const started = Date.now();
    const docker = this.o.docker;
    const v = rendered.values;
    try {
      let result: unknown;
      if (which === 'system.resources') result = systemResources();
      else if (which === 'docker.list') result = await docker.list(true, signal);
      else if (which === 'docker.inspect') result = await docker.inspect(v.container!, signal);
      else if (which === 'docker.logs')
        result = await docker.logs(v.container!, Number(v.lines ?? 100), signal);
      else {
        await docker.restart(v.container!, 10, signal);
        const state = (await docker.inspect(v.container!, signal)).State as
          { Running?: boolean } | undefined;
        result = { restarted: v.container, running: state?.Running ?? null };
      }
      const durationMs = Date.now() - started;
      await this.o.audit.append({
        caller,
        operation: 'run_action',
        input,
        decision: 'allowed',
        rule,
        durationMs,
        outputDigest: digest(JSON.stringify(result)),
      });
      return { status: 'done', rule, result, durationMs };
    } catch (err) {
      await this.o.audit.append({
        caller,
        operation: 'run_action',
        input,
        decision: 'failed',
        rule,
        durationMs: Date.now() - started,
        outputDigest: digest(errorMessage(err)),
      });
      throw err;
    }
  }

  private async runAndAudit(
    operation: string,
    input: unknown,
    caller: Caller,
    rule: string,
    req: Parameters<SandboxRunner['run']>[0] & { verify?: RenderedAction['verify'] },
  ): Promise<ExecOutcome> {
    let result: RunResult;
    try {
      result = await this.o.runner.run(req);
    } catch (err) {
      await this.o.audit.append({
        caller,
        operation,
        input,
        argv: req.argv,
        decision: 'failed',
        rule,
        outputDigest: digest(errorMessage(err)),
      });
      throw err;
    }
    let verify: Extract<ExecOutcome, { status: 'ran' }>['verify'];
    if (req.verify && result.exitCode === 0) {
      const v = await this.o.runner.run({
        executable: req.verify.executable,
        argv: req.verify.argv,
        risk: 'read',
        signal: req.signal,
      });
      verify = { ok: v.exitCode === 0, exitCode: v.exitCode, stdout: v.stdout, stderr: v.stderr };
    }
    await this.o.audit.append({
      caller,
      operation,
      input,
      argv: req.argv,
      decision: 'allowed',
      rule,
      exitCode: result.exitCode,
      durationMs: result.durationMs,
      outputDigest: digest(result.stdout, result.stderr),
    });
    return {
      status: 'ran',
      rule,
      argv: [...req.argv],
      exitCode: result.exitCode,
      timedOut: result.timedOut,
      truncated: result.truncated,
      stdout: result.stdout,
      stderr: result.stderr,
      durationMs: result.durationMs,
      ...(verify ? { verify } : {}),
    };
  }
}
