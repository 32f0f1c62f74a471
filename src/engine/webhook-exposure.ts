// What a workflow exposes to the network: its webhook triggers, with their
// method, path and authentication. A webhook without authentication lets
// anyone who reaches Warden start the workflow; that must be a choice made
// in sight, so activation and the API views say so.
import type { WorkflowDefinition } from './workflow-model.ts';

export type WebhookAuth = 'none' | 'headerToken' | 'hmac';

export type WebhookExposure = {
  node: string;
  method: string;
  path: string;
  auth: WebhookAuth;
};

export function webhookExposures(def: WorkflowDefinition): WebhookExposure[] {
  return def.nodes
    .filter((n) => n.type === 'webhook')
    .map((n) => {
      const auth = String(n.parameters.auth ?? 'none');
      return {
        node: n.name,
        method: String(n.parameters.method ?? 'POST').toUpperCase(),
        path: String(n.parameters.path ?? ''),
        auth: auth === 'headerToken' || auth === 'hmac' ? auth : 'none',
      };
    });
}

/** One warning per webhook that anyone may call. */
export function webhookWarnings(def: WorkflowDefinition): string[] {
  return webhookExposures(def)
    .filter((w) => w.auth === 'none')
    .map(
      (w) =>
        `webhook "${w.node}" (${w.method} /webhook/${w.path}) has no authentication (auth: none): anyone who can reach Warden can start this workflow; set auth to headerToken or hmac unless that is intended`,
    );
}
