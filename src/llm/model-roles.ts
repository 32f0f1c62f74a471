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

export const roleEnv: Record<ModelRole, string> = {
  orchestrator: 'LLM_MODEL_ORCHESTRATOR',
  reasoning: 'LLM_MODEL_REASONING',
  vision: 'LLM_MODEL_VISION',
  embedding: 'LLM_MODEL_EMBEDDING',
  validator: 'LLM_MODEL_VALIDATOR',
};
