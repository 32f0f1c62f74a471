// Workflow documents the engine tests share.
export function webhookSetRespond(path: string) {
  return {
    name: `respond ${path}`,
    nodes: [
      { id: 'a', name: 'Hook', type: 'webhook', parameters: { path, method: 'POST' } },
      {
        id: 'b',
        name: 'Set',
        type: 'set',
        parameters: {
          values: { greeting: '={{ "hello " & body.name }}', n: '={{ body.n * 2 }}' },
          keepOnlySet: true,
        },
      },
      { id: 'c', name: 'Respond', type: 'respondToWebhook', parameters: { statusCode: 201 } },
    ],
    connections: {
      Hook: { main: [[{ node: 'Set', index: 0 }]] },
      Set: { main: [[{ node: 'Respond', index: 0 }]] },
    },
    settings: {},
  };
}
