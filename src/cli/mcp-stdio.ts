// Shared by the `warden mcp ...` commands that speak MCP over stdio.
import { Writable } from 'node:stream';

// Over stdio, stdout belongs to MCP. Anything else that writes there (a
// stray console.log, a dependency) goes to stderr instead.
export function claimStdout(): Writable {
  const write = process.stdout.write.bind(process.stdout);
  const mcp = new Writable({
    write(chunk: Buffer, _enc, cb) {
      write(chunk, (err) => cb(err ?? null));
    },
  });
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  console.log = console.error;
  console.info = console.error;
  return mcp;
}
