// The jobs models do in Warden. Each role names a model in config
// (LLM_MODEL_<ROLE>); code asks for a role, never for a model by name.
import type { Config } from '../config/load.ts';

export const modelRoles = [
  'orchestrator',
  'reasoning',
  'vision',
  'embedding',
  'validator',
] as const;
export type ModelRole = (typeof modelRoles)[number];

export type ModelRoles = Record<ModelRole, string>;

export function rolesFromConfig(llm: Config['llm']): ModelRoles {
  return {
    orchestrator: llm.orchestratorModel,
    reasoning: llm.reasoningModel,
    vision: llm.visionModel,
    embedding: llm.embeddingModel,
    validator: llm.validatorModel,
  };
}

/**
 * What each role does in Warden today. A role without a use here is listed
 * but neither required by `warden doctor` nor pulled by `warden models pull`:
 * vision runs only when someone attaches an image to an incident, and a
 * missing vision model is then recorded on that incident's timeline.
 */
export const roleUse: Record<ModelRole, string | undefined> = {
  orchestrator: 'tool use and the agent',
  reasoning: 'incident diagnosis',
  validator: 'the second opinion on change actions',
  embedding: 'incident memory vectors (MEMORY_EMBEDDER=ollama)',
  vision: undefined,
};

/** The roles something uses with this configuration. */
export function rolesInUse(config: Pick<Config, 'memory'>): ModelRole[] {
  return modelRoles.filter(
    (r) => roleUse[r] !== undefined && (r !== 'embedding' || config.memory.embedder === 'ollama'),
  );
}

export const roleEnv: Record<ModelRole, string> = {
  orchestrator: 'LLM_MODEL_ORCHESTRATOR',
  reasoning: 'LLM_MODEL_REASONING',
  vision: 'LLM_MODEL_VISION',
  embedding: 'LLM_MODEL_EMBEDDING',
  validator: 'LLM_MODEL_VALIDATOR',
};
