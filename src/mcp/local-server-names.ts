// The names of the local MCP servers, apart from the servers themselves:
// the main process declares their routes at start and loads the MCP SDK
// (about 10 MB of the main process's memory) only when a client first calls one.
export const localServerNames = ['memory', 'thinking', 'workflows', 'files'] as const;
export type LocalServerName = (typeof localServerNames)[number];
