// First-run setup: while no user exists, a one-time token printed at start
// lets whoever holds it create the owner account.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import { userSchema } from '../schemas.ts';
import { setSessionCookie } from './session.ts';

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Warden setup</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto">
<h1>Set up Warden</h1>
<p>Create the administrator account.</p>
<form id="setup">
  <p><label>Username<br><input name="username" required autocomplete="username"></label></p>
  <p><label>Password (12 characters or more)<br><input name="password" type="password" minlength="12" required autocomplete="new-password"></label></p>
  <p><button type="submit">Create administrator</button></p>
  <p id="result" role="status"></p>
</form>
<script>
const form = document.getElementById('setup');
form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = new URLSearchParams(location.search).get('token');
  const data = Object.fromEntries(new FormData(form));
  const res = await fetch('/api/v1/setup', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...data, token }) });
  const body = await res.json();
  document.getElementById('result').textContent = res.ok ? 'Done: you are logged in as ' + body.user.username + '. Opening the console…' : body.error.message;
  if (res.ok) location.assign('/');
});
</script></body></html>`;

export default async function setupPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { users, sessions } = opts.services;

  app.get('/setup', { config: { public: true } }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header(
        'content-security-policy',
        "default-src 'none'; script-src 'unsafe-inline'; connect-src 'self'; style-src 'unsafe-inline'",
      )
      .send(page),
  );

  app.post<{ Body: { token: string; username: string; password: string } }>(
    '/api/v1/setup',
    {
      config: { public: true },
      schema: {
        body: {
          type: 'object',
          required: ['token', 'username', 'password'],
          properties: {
            token: { type: 'string', minLength: 1, maxLength: 200 },
            username: { type: 'string', minLength: 1, maxLength: 64 },
            password: { type: 'string', minLength: 1, maxLength: 1024 },
          },
          additionalProperties: false,
        },
        response: {
          201: { type: 'object', properties: { user: userSchema, csrfToken: { type: 'string' } } },
        },
      },
    },
    async (request, reply) => {
      const { token, username, password } = request.body;
      const user = await users.completeSetup(token, username, password);
      request.log.info(
        { event: 'auth.setup', user: user.username },
        'administrator created through the setup link',
      );
      const session = await sessions.create(user.id);
      setSessionCookie(request, reply, session);
      return reply.status(201).send({ user, csrfToken: session.csrfToken });
    },
  );
}
