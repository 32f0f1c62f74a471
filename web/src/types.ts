// The API's shapes as the console reads them (JSON: dates are strings).

export type Incident = {
  id: number;
  service: string;
  fingerprint: string;
  source: string;
  severity: string;
  status: string;
  summary: string;
  labels: Record<string, string>;
  occurrences: number;
  flapping: boolean;
  openedAt: string;
  lastSeenAt: string;
  resolvedAt: string | null;
  updatedAt: string;
};

export type IncidentEvent = {
  id: number;
  at: string;
  type: string;
  message: string;
  evidence: Record<string, unknown>;
  actor: string;
};

export type Alert = {
  id: number;
  source: string;
  status: string;
  severity: string;
  summary: string;
  receivedAt: string;
  outcome: string;
};

export type Approval = {
  id: number;
  incidentId: number;
  executionId: string | null;
  action: string;
  parameters: Record<string, unknown>;
  risk: string;
  reason: string;
  proposal: unknown;
  status: string;
  requestedAt: string;
  expiresAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  comment: string | null;
};

export type ExecError = { code?: string; message?: string; node?: string } | null;

export type Execution = {
  id: string;
  workflowId: number;
  workflowVersion: number;
  status: string;
  mode: string;
  triggerNode: string;
  attempts: number;
  cancelRequested: boolean;
  error: ExecError;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
};

export type Step = {
  nodeName: string;
  status: string;
  attempts: number;
  input: unknown;
  output: unknown;
  truncated: boolean;
  error: ExecError;
  worker: string | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
};

export type Dashboard = {
  at: string;
  incidents: { openBySeverity: Record<string, number> };
  approvals: {
    id: number;
    incidentId: number;
    action: string;
    risk: string;
    requestedAt: string;
    expiresAt: string;
  }[];
  monitors: {
    id: number;
    name: string;
    service: string;
    enabled: boolean;
    state: string;
    failures: number;
    lastCheckedAt: string | null;
    lastResult: { ok: boolean; latencyMs: number; detail: string } | null;
    recentChecks: { at: string; ok: boolean; latencyMs: number }[];
  }[];
  executions: {
    perMinute: { minute: string; total: number; succeeded: number; failed: number }[];
    successRate: number | null;
  };
  queue: {
    kind: string;
    queued: number;
    running: number;
    waiting: number;
    busyWorkers: number;
    activeHere: number;
  };
  models: { provider: string; url: string; roles: Record<string, string> };
  backup: { file: string; kind: string; createdAt: string; bytes: number } | null;
  storm: {
    autoHeal: boolean;
    paused: boolean;
    openedInWindow: number;
    pauseAfter: number;
    windowSeconds: number;
    reason: string | null;
  };
};
