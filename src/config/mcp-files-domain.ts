// The local files MCP server (`warden mcp files`): which directories it may
// touch, and whether it may write.
import { z } from 'zod';

import { commaList, domain, envBoolean, setting } from './setting.ts';

export const mcpFilesDomain = domain('mcpFiles', 'The files MCP server (`warden mcp files`).', {
  roots: setting({
    env: 'WARDEN_MCP_FILES_ROOTS',
    schema: commaList(
      z.string().refine((p) => p.startsWith('/') && !p.includes('\0'), 'must be an absolute path'),
    ),
    default: [],
    doc: 'Comma-separated absolute paths of the directories the files MCP server may touch. Unset: it refuses to start.',
  }),
  write: setting({
    env: 'WARDEN_MCP_FILES_WRITE',
    schema: envBoolean,
    default: false,
    doc: 'Register the write tools (write_file, edit_file, create_directory, move_file); otherwise read-only (or pass --write).',
  }),
  maxReadBytes: setting({
    env: 'WARDEN_MCP_FILES_MAX_READ_BYTES',
    schema: z.coerce
      .number()
      .int()
      .min(1024)
      .max(64 * 1_048_576),
    default: 1_048_576,
    doc: 'Most bytes one read returns; larger files are read by head or tail lines.',
  }),
});
