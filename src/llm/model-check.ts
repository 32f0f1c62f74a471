// Which role models the model server has, and pulling the missing ones.
// Used by `warden models list|pull` and `warden doctor`.
import { errorMessage } from '../errors.ts';
import type { LlmGateway } from './gateway.ts';
import type { ModelRole } from './model-roles.ts';
import { modelRoles, roleEnv } from './model-roles.ts';
import type { PullProgress } from './provider.ts';
import { sameModel } from './provider.ts';

export type RoleModel = {
  role: ModelRole;
  model: string;
  /** The variable that overrides it. */
  env: string;
  present: boolean;
  /** Whether something uses the role with this configuration (then it is required). */
  inUse: boolean;
  size?: number;
};

export type ModelReport = {
  url: string;
  kind: string;
  reachable: boolean;
  version?: string;
  error?: string;
  roles: RoleModel[];
};

export async function checkRoleModels(
  llm: LlmGateway,
  inUse: readonly ModelRole[] = modelRoles,
): Promise<ModelReport> {
  const base = { url: llm.url, kind: llm.kind };
  const roles = (have: Array<{ name: string; size?: number }>) =>
    modelRoles.map((role) => {
      const model = llm.roles[role];
      const found = have.find((m) => sameModel(m.name, model));
      return {
        role,
        model,
        env: roleEnv[role],
        present: !!found,
        inUse: inUse.includes(role),
        ...(found?.size !== undefined ? { size: found.size } : {}),
      };
    });
  try {
    const [info, models] = await Promise.all([llm.info(), llm.listModels()]);
    return { ...base, reachable: true, version: info.version, roles: roles(models) };
  } catch (err) {
    return { ...base, reachable: false, error: errorMessage(err), roles: roles([]) };
  }
}

export type PullResult = { model: string; status: 'pulled' | 'failed'; error?: string };

/** Pulls models one after another (Ollama downloads one at a time well). */
export async function pullModels(
  llm: LlmGateway,
  models: string[],
  onProgress: (model: string, p: PullProgress) => void,
  signal?: AbortSignal,
): Promise<PullResult[]> {
  const results: PullResult[] = [];
  for (const model of models) {
    try {
      await llm.pull({ model, signal, onProgress: (p) => onProgress(model, p) });
      results.push({ model, status: 'pulled' });
    } catch (err) {
      if (signal?.aborted) throw err;
      results.push({ model, status: 'failed', error: errorMessage(err) });
    }
  }
  return results;
}
