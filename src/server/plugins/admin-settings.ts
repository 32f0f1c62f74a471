// What an admin reads about the running configuration: every setting with
// secrets masked (GET /api/v1/settings), the notification channels in use
// with their settings masked the same way, and a test message through each
// (POST /api/v1/notifications/test). Admin only: even masked, the settings
// describe the deployment.
import { randomUUID } from 'node:crypto';

import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import { describeConfig } from '../../config/load.ts';
import { UserError } from '../../errors.ts';
import type { PageQuery } from '../paging.ts';
import { pagedQuery, pagedResponse, pageInMemory } from '../paging.ts';
import { emptyBody } from '../schemas.ts';
import { principalName } from './auth.ts';

/** Which notify.* settings belong to which channel. */
const channelSettings: Record<string, RegExp> = {
  webhook: /^notify\.webhook/,
  telegram: /^notify\.telegram/,
  slack: /^notify\.slack/,
  email: /^notify\.(smtp|email)/,
};

const anyObject = { type: 'object', additionalProperties: true } as const;

export default async function adminSettingsPlugin(
  app: FastifyInstance,
  opts: { services: Services },
) {
  const { config, notifications } = opts.services;

  app.get<{ Querystring: PageQuery }>(
    '/api/v1/settings',
    {
      config: { role: 'admin' },
      schema: {
        querystring: pagedQuery({}),
        response: { 200: pagedResponse('settings', anyObject) },
      },
    },
    async (request) => {
      const page = pageInMemory(describeConfig(config), request.query, {
        key: (s) => [s.key],
        shape: ['string'],
      });
      return { settings: page.items, nextCursor: page.nextCursor };
    },
  );

  app.get<{ Querystring: PageQuery }>(
    '/api/v1/notifications/channels',
    {
      config: { role: 'admin' },
      schema: {
        querystring: pagedQuery({}),
        response: { 200: pagedResponse('channels', anyObject) },
      },
    },
    async (request) => {
      const settings = describeConfig(config);
      const page = pageInMemory(notifications.channels, request.query, {
        key: (name) => [name],
        shape: ['string'],
      });
      return {
        channels: page.items.map((name) => ({
          name,
          settings: settings
            .filter((s) => channelSettings[name]?.test(s.key))
            .map((s) => ({ key: s.key, env: s.env, value: s.value })),
        })),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.post(
    '/api/v1/notifications/test',
    {
      config: { role: 'admin' },
      schema: { body: emptyBody },
    },
    async (request) => {
      if (notifications.channels.length === 0)
        throw new UserError(
          'no_channels',
          'no notification channel is configured; set WARDEN_NOTIFY_WEBHOOK_URL, TELEGRAM_BOT_TOKEN with TELEGRAM_CHAT_ID, SLACK_WEBHOOK_URL or SMTP_URL with WARDEN_NOTIFY_EMAIL_TO',
          { status: 409 },
        );
      const by = principalName(request.principal);
      // A fresh key: a test is never swallowed as a duplicate of the last one.
      const results = await notifications.notify({
        kind: 'info',
        title: 'Warden test notification',
        text: `Sent from the console by ${by} to check that this channel reaches you.`,
        dedupKey: `test:${randomUUID()}`,
      });
      return { results };
    },
  );
}
