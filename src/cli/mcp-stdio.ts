// Over stdio, stdout belongs to MCP. Anything else that writes there (a
// stray console.log, a dependency) goes to stderr instead.
import { Writable } from 'node:stream';

/** Takes stdout for MCP; returns the stream the stdio transport writes to. */
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
