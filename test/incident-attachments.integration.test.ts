// Images on incidents against real PostgreSQL and the Ollama test server:
// a PNG or JPEG is stored, put on the timeline, and described by the vision
// model (llava:7b) through Ollama's `images` field into the timeline; a
// file that is not PNG or JPEG by its bytes, bad base64, an image over
// 5 MB and a viewer are refused with nothing stored; a vision failure is
// recorded rather than lost; the bytes come back with the proven type.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { NormalizedAlert } from '../src/incidents/alert.ts';
import type { IncidentEvent } from '../src/incidents/incident-store.ts';
import type { TestApp } from './helpers/app.ts';
import { makeTestApp } from './helpers/app.ts';
import { OllamaTestServer } from './helpers/ollama-test-server.ts';

// A real 1x1 PNG.
const png =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const jpegBytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]);

let t: TestApp;
let ollama: OllamaTestServer;
let operator: { authorization: string };
let viewer: { authorization: string };
let n = 0;

async function openIncident(): Promise<number> {
  n++;
  const alert: NormalizedAlert = {
    source: 'alertmanager',
    fingerprint: `fp-attach-${n}`,
    service: `attach-${n}`,
    severity: 'critical',
    status: 'firing',
    summary: `checkout page shows errors (${n})`,
    labels: {},
    annotations: {},
    startsAt: new Date(),
    endsAt: null,
    raw: {},
  };
  const [r] = await t.services.incidents.ingest([alert]);
  return r!.incidentId!;
}

function attach(id: number, body: Record<string, unknown>, headers = operator) {
  return t.app.inject({
    method: 'POST',
    url: `/api/v1/incidents/${id}/attachments`,
    headers,
    payload: body,
  });
}

async function waitForEvent(id: number, type: string): Promise<IncidentEvent> {
  for (let i = 0; i < 200; i++) {
    const found = (await t.services.incidents.show(id)).events.find((e) => e.type === type);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no ${type} event on incident ${id}`);
}

beforeAll(async () => {
  ollama = await OllamaTestServer.start();
  t = await makeTestApp('postgres', { OLLAMA_URL: ollama.url, LLM_RETRIES: '0' });
  operator = await t.keyFor('operator');
  viewer = await t.keyFor('viewer');
});
beforeEach(async () => {
  await ollama.reset();
  ollama.models.set('llava:7b', {
    name: 'llava:7b',
    size: 4_733_363_377,
    family: 'llama',
    parameterSize: '7B',
  });
});
afterAll(async () => {
  await t?.close();
  await ollama?.close();
});

describe('attaching an image', () => {
  it('stores a PNG, puts it on the timeline and has llava:7b describe it from the image bytes', async () => {
    const id = await openIncident();
    ollama.script({ content: 'A browser showing "502 Bad Gateway" from nginx/1.24.0.' });
    const res = await attach(id, { data: png, filename: 'checkout.png' });
    expect(res.statusCode, res.body).toBe(201);
    const { attachment } = res.json() as { attachment: { id: number; mediaType: string } };
    expect(attachment.mediaType).toBe('image/png');

    const added = await waitForEvent(id, 'attachment');
    expect(added).toMatchObject({
      actor: 'api_key:test-operator',
      evidence: { attachmentId: attachment.id, mediaType: 'image/png', filename: 'checkout.png' },
    });
    const described = await waitForEvent(id, 'vision.description');
    expect(described.message).toBe('A browser showing "502 Bad Gateway" from nginx/1.24.0.');
    expect(described.evidence).toMatchObject({ attachmentId: attachment.id, model: 'llava:7b' });
    const chat = ollama.requestsTo('/api/chat').at(-1)!;
    expect(chat.body.model).toBe('llava:7b');
    expect(ollama.imagesSent().at(-1)).toEqual([png]);

    const bytes = await t.app.inject({
      url: `/api/v1/incidents/${id}/attachments/${attachment.id}`,
      headers: viewer,
    });
    expect(bytes.statusCode).toBe(200);
    expect(bytes.headers['content-type']).toBe('image/png');
    expect(bytes.headers['x-content-type-options']).toBe('nosniff');
    expect(bytes.headers['content-disposition']).not.toContain('checkout');
    expect(bytes.rawPayload.equals(Buffer.from(png, 'base64'))).toBe(true);
    const list = await t.app.inject({
      url: `/api/v1/incidents/${id}/attachments`,
      headers: viewer,
    });
    expect((list.json() as { attachments: { id: number }[] }).attachments.map((a) => a.id)).toEqual(
      [attachment.id],
    );
    // An attachment is only reachable under its own incident.
    const other = await openIncident();
    const elsewhere = await t.app.inject({
      url: `/api/v1/incidents/${other}/attachments/${attachment.id}`,
      headers: viewer,
    });
    expect(elsewhere.statusCode).toBe(404);
  });

  it('takes a JPEG by its bytes whatever its name says', async () => {
    const id = await openIncident();
    const res = await attach(id, { data: jpegBytes.toString('base64'), filename: 'graph.png' });
    expect(res.statusCode).toBe(201);
    expect((res.json() as { attachment: { mediaType: string } }).attachment.mediaType).toBe(
      'image/jpeg',
    );
    await waitForEvent(id, 'vision.description');
  });

  it('refuses what is not a PNG or JPEG, bad base64, an image over 5 MB and a viewer, storing nothing', async () => {
    const id = await openIncident();
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>');
    const cases: [Record<string, unknown>, number, string][] = [
      [{ data: svg.toString('base64'), filename: 'shot.png' }, 415, 'unsupported_image'],
      [{ data: 'this is not base64!' }, 400, 'invalid_image'],
      [{ data: png, extra: true }, 400, 'invalid_request'],
      [{}, 400, 'invalid_request'],
    ];
    for (const [body, status, code] of cases) {
      const res = await attach(id, body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 60)).toBe(status);
      expect(res.json().error.code).toBe(code);
    }
    const big = Buffer.alloc(5 * 1024 * 1024 + 100);
    Buffer.from(png, 'base64').copy(big);
    const tooBig = await attach(id, { data: big.toString('base64') });
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json().error.code).toBe('image_too_large');
    const byViewer = await attach(id, { data: png }, viewer);
    expect(byViewer.statusCode).toBe(403);
    const missing = await attach(999_999, { data: png });
    expect(missing.statusCode).toBe(404);

    const list = await t.app.inject({
      url: `/api/v1/incidents/${id}/attachments`,
      headers: viewer,
    });
    expect((list.json() as { attachments: unknown[] }).attachments).toEqual([]);
    const events = (await t.services.incidents.show(id)).events.map((e) => e.type);
    expect(events).not.toContain('attachment');
    expect(ollama.requestsTo('/api/chat')).toHaveLength(0);
  });

  it('records on the timeline when the vision model cannot describe the image', async () => {
    const id = await openIncident();
    ollama.models.delete('llava:7b');
    const res = await attach(id, { data: png });
    expect(res.statusCode).toBe(201);
    const failed = await waitForEvent(id, 'vision.failed');
    expect(failed.message).toContain('llava:7b');
    expect(failed.evidence).toMatchObject({ model: 'llava:7b' });
  });
});

describe('the Ollama test server and images', () => {
  it('refuses an image that is not base64, as Ollama does', async () => {
    const res = await fetch(`${ollama.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'llava:7b',
        stream: false,
        messages: [{ role: 'user', content: 'what is this', images: ['not base64!'] }],
      }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/illegal base64/);
  });
});
