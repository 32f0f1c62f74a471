// Reads a password without echoing it, or from standard input for scripts.
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export async function promptHidden(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const out = rl as unknown as {
    _writeToOutput: (s: string) => void;
    output: NodeJS.WritableStream;
  };
  out._writeToOutput = (s: string) => {
    // Echo the prompt and line ends, nothing typed.
    if (s.startsWith(question) || s === '\r\n' || s === '\n') out.output.write(s);
  };
  try {
    return await new Promise((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
  }
}

export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
