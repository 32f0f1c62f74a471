// The built-in node types, registered in one registry.
import { NodeRegistry } from '../engine/node-types.ts';
import { executeWorkflowNode } from './execute-workflow.ts';
import { ifNode, mergeNode, noOpNode, switchNode } from './flow.ts';
import { httpRequestNode } from './http-request.ts';
import { respondToWebhookNode } from './respond-to-webhook.ts';
import { setNode } from './set.ts';
import { manualTrigger, scheduleTrigger, webhookTrigger } from './triggers.ts';
import { waitNode } from './wait.ts';

export function builtinNodes(): NodeRegistry {
  return new NodeRegistry()
    .register(webhookTrigger)
    .register(scheduleTrigger)
    .register(manualTrigger)
    .register(httpRequestNode)
    .register(ifNode)
    .register(switchNode)
    .register(setNode)
    .register(mergeNode)
    .register(waitNode)
    .register(respondToWebhookNode)
    .register(executeWorkflowNode)
    .register(noOpNode);
}
