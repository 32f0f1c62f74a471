// Wires the exec layer from config: policy, runner, catalogue (default
// actions plus actions.yaml), audit log and the Docker Engine client. The
// composition root (app.ts) calls this once.
import { join, resolve } from 'node:path';

import type { Config } from '../config/load.ts';
import type { Db } from '../db/db.ts';
import { loadEncryptionKey } from '../secrets/encryption-key.ts';
import { ActionCatalogue, loadActionsFile } from './action-catalogue.ts';
import { auditPendingFile, deriveAuditKey } from './audit-anchor.ts';
import { AuditLog } from './audit-log.ts';
import { CommandPolicy } from './command-policy.ts';
import { defaultCatalogueFor } from './default-catalogue.ts';
import { DockerEngine } from './docker-engine.ts';
import { Executor } from './executor.ts';
import type { Spawner } from './sandbox-runner.ts';
import { SandboxRunner } from './sandbox-runner.ts';

export type ExecServices = {
  executor: Executor;
  audit: AuditLog;
  catalogue: ActionCatalogue;
  policy: CommandPolicy;
  runner: SandboxRunner;
  docker: DockerEngine;
};

export type BuildExecOptions = {
  /** Starts processes; tests inject a counting one. @default child_process.spawn */
  spawn?: Spawner;
  /** Load the catalogue into the database. @default true */
  syncCatalogue?: boolean;
};

export async function buildExec(
  config: Config,
  db: Db,
  options: BuildExecOptions = {},
): Promise<ExecServices> {
  const e = config.exec;
  const [uid, gid] = e.runAsUser?.split(':').map(Number) ?? [];
  const policy = new CommandPolicy({ blockedPatterns: e.blockedPatterns });
  const runner = new SandboxRunner({
    root: resolve(e.sandboxRoot ?? join(config.database.dataDir, 'exec')),
    timeoutMs: e.timeoutMs,
    outputCapBytes: e.outputCapBytes,
    concurrency: e.concurrency,
    bwrap: e.bwrap,
    uid,
    gid: gid ?? uid,
    spawn: options.spawn,
  });
  const catalogue = new ActionCatalogue(db, {
    allowedUnits: e.allowedUnits,
    allowedLogDirs: e.allowedLogDirs,
  });
  if (options.syncCatalogue !== false) {
    await catalogue.sync('default', defaultCatalogueFor({ supervisorConfig: e.supervisorConfig }));
    await catalogue.sync('file', e.actionsFile ? loadActionsFile(e.actionsFile) : []);
  }
  // The MAC key comes from the secrets key (never stored in the database), so
  // every process that shares WARDEN_ENCRYPTION_KEY agrees on it; checkpoints
  // sit beside it in the data directory.
  const secretsKey = loadEncryptionKey({
    key: config.security.encryptionKey,
    dataDir: config.database.dataDir,
  });
  const audit = new AuditLog(db, {
    file: resolve(e.auditFile ?? join(config.database.dataDir, 'audit.jsonl')),
    macKey: deriveAuditKey(secretsKey),
    checkpointFile: resolve(config.database.dataDir, 'audit.checkpoints'),
    pendingFile: resolve(config.database.dataDir, auditPendingFile),
  });
  await audit.reanchorIfPending();
  const docker = new DockerEngine({ socketPath: e.dockerSocket });
  const executor = new Executor({ policy, runner, catalogue, audit, docker });
  return { executor, audit, catalogue, policy, runner, docker };
}
