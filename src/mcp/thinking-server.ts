// `warden mcp thinking`: sequential thinking with the tool contract of the
// reference MCP sequential-thinking server. Each server instance (a process
// over stdio, a session over HTTP) keeps one thought chain, stored in the
// database (thought_chains, thoughts) so that chains outlive the process.
// Unlike the reference, references to thoughts are checked: a revision
// must name a thought already in the chain, and so must a branch point.
import { randomUUID } from 'node:crypto';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

import type { Db } from '../db/db.ts';
import { UserError } from '../errors.ts';
import { guardTool, toolText } from './tool-results.ts';

export type ThinkingServerOptions = { db: Db; version: string };

export const thinkingLimits = { thoughtChars: 20_000, thoughtsPerChain: 1000 } as const;

export type ThoughtInput = {
  thought: string;
  nextThoughtNeeded: boolean;
  thoughtNumber: number;
  totalThoughts: number;
  isRevision?: boolean;
  revisesThought?: number;
  branchFromThought?: number;
  branchId?: string;
  needsMoreThoughts?: boolean;
};

export type ThoughtAnswer = {
  thoughtNumber: number;
  totalThoughts: number;
  nextThoughtNeeded: boolean;
  branches: string[];
  thoughtHistoryLength: number;
};

/** One chain of thoughts in the database; created on its first thought. */
export class ThoughtChain {
  readonly id = randomUUID();
  private created = false;

  constructor(
    private readonly db: Db,
    private readonly describe: () => { sessionId?: string; clientName?: string } = () => ({}),
  ) {}

  async add(input: ThoughtInput): Promise<ThoughtAnswer> {
    if (input.thought.length === 0) throw new UserError('thought_empty', 'thought is empty');
    if (input.thought.length > thinkingLimits.thoughtChars)
      throw new UserError(
        'thought_too_long',
        `thought has ${input.thought.length} characters; the limit is ${thinkingLimits.thoughtChars}`,
      );
    for (const key of [
      'thoughtNumber',
      'totalThoughts',
      'revisesThought',
      'branchFromThought',
    ] as const) {
      const v = input[key];
      if (v !== undefined && !(Number.isInteger(v) && v > 0))
        throw new UserError('thought_invalid_number', `${key} must be a positive integer`);
    }
    if (input.branchId !== undefined && input.branchFromThought === undefined)
      throw new UserError('thought_branch_without_origin', 'branchId needs branchFromThought');
    if (input.branchFromThought !== undefined && !input.branchId)
      throw new UserError('thought_branch_without_id', 'branchFromThought needs a branchId');
    // The reference raises totalThoughts to the thought's number.
    const totalThoughts = Math.max(input.totalThoughts, input.thoughtNumber);

    const answer = await this.db.transaction(async (tx) => {
      if (!this.created) {
        const who = this.describe();
        await tx.query(
          'INSERT INTO thought_chains (id, session_id, client_name) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING',
          [this.id, who.sessionId ?? null, who.clientName ?? null],
        );
      }
      await tx.query('SELECT id FROM thought_chains WHERE id = $1 FOR UPDATE', [this.id]);
      const { rows } = await tx.query<{ n: number; numbers: number[] | null }>(
        `SELECT count(*)::int AS n, array_agg(DISTINCT thought_number) AS numbers
         FROM thoughts WHERE chain_id = $1`,
        [this.id],
      );
      const length = rows[0]?.n ?? 0;
      const known = new Set((rows[0]?.numbers ?? []).map(Number));
      if (length >= thinkingLimits.thoughtsPerChain)
        throw new UserError(
          'thought_chain_full',
          `this chain already holds ${length} thoughts, the limit; start a new session`,
        );
      if (input.revisesThought !== undefined && !known.has(input.revisesThought))
        throw new UserError(
          'thought_not_found',
          `revisesThought ${input.revisesThought} names no earlier thought (this chain has ${describeNumbers(known)})`,
        );
      if (input.branchFromThought !== undefined && !known.has(input.branchFromThought))
        throw new UserError(
          'thought_not_found',
          `branchFromThought ${input.branchFromThought} names no earlier thought (this chain has ${describeNumbers(known)})`,
        );
      await tx.query(
        `INSERT INTO thoughts (chain_id, seq, thought, thought_number, total_thoughts,
           next_thought_needed, is_revision, revises_thought, branch_from_thought, branch_id,
           needs_more_thoughts)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          this.id,
          length + 1,
          input.thought,
          input.thoughtNumber,
          totalThoughts,
          input.nextThoughtNeeded,
          input.isRevision ?? false,
          input.revisesThought ?? null,
          input.branchFromThought ?? null,
          input.branchId ?? null,
          input.needsMoreThoughts ?? false,
        ],
      );
      const branches = await tx.query<{ branch_id: string }>(
        `SELECT branch_id FROM thoughts WHERE chain_id = $1 AND branch_id IS NOT NULL
         GROUP BY branch_id ORDER BY min(seq)`,
        [this.id],
      );
      return {
        thoughtNumber: input.thoughtNumber,
        totalThoughts,
        nextThoughtNeeded: input.nextThoughtNeeded,
        branches: branches.rows.map((r) => r.branch_id),
        thoughtHistoryLength: length + 1,
      };
    });
    this.created = true;
    return answer;
  }
}

function describeNumbers(known: Set<number>): string {
  if (known.size === 0) return 'no thoughts yet';
  return `thoughts ${[...known].sort((a, b) => a - b).join(', ')}`;
}

const positive = z.number().int().min(1);

export function createThinkingServer(options: ThinkingServerOptions): McpServer {
  const server = new McpServer(
    { name: 'warden-thinking', version: options.version },
    {
      instructions:
        "Sequential thinking: call sequentialthinking once per thought; revise or branch from earlier thoughts as understanding grows. The chain is kept in Warden's database.",
    },
  );
  let sessionId: string | undefined;
  const chain = new ThoughtChain(options.db, () => ({
    ...(sessionId ? { sessionId } : {}),
    ...(server.server.getClientVersion()?.name
      ? { clientName: server.server.getClientVersion()!.name }
      : {}),
  }));

  server.registerTool(
    'sequentialthinking',
    {
      title: 'Sequential thinking',
      description: `A tool for dynamic, reflective problem-solving through a sequence of thoughts. Each call records one thought; a thought may question or revise an earlier one (isRevision, revisesThought), branch from one (branchFromThought, branchId), or extend the plan (totalThoughts may be raised at any time; needsMoreThoughts when reaching the end but realising more are needed). Set nextThoughtNeeded to false only when a satisfactory answer is reached. Answers with thoughtNumber, totalThoughts (raised to thoughtNumber when that is larger), nextThoughtNeeded, the branch ids and the length of the history. revisesThought and branchFromThought must name a thought already recorded in this session. At most ${thinkingLimits.thoughtsPerChain} thoughts per session.`,
      inputSchema: {
        thought: z
          .string()
          .min(1)
          .max(thinkingLimits.thoughtChars)
          .describe('your current thinking step'),
        nextThoughtNeeded: z.boolean().describe('whether another thought step is needed'),
        thoughtNumber: positive.describe('current thought number'),
        totalThoughts: positive.describe('estimated total thoughts needed'),
        isRevision: z.boolean().optional().describe('whether this revises previous thinking'),
        revisesThought: positive.optional().describe('which thought is being reconsidered'),
        branchFromThought: positive.optional().describe('branching point thought number'),
        branchId: z.string().min(1).max(128).optional().describe('branch identifier'),
        needsMoreThoughts: z.boolean().optional().describe('if more thoughts are needed'),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    async (args: ThoughtInput, extra: { sessionId?: string }) => {
      sessionId ??= extra.sessionId;
      const result = await guardTool(async (a: ThoughtInput) => toolText(await chain.add(a)))(
        args,
        extra,
      );
      if (result.isError) {
        const first = result.content[0];
        const body = first?.type === 'text' ? (JSON.parse(first.text) as object) : {};
        return toolText({ ...body, status: 'failed' }, true);
      }
      return result;
    },
  );

  return server;
}
