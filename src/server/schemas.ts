// JSON schemas shared by routes.
import { roles } from '../auth/roles.ts';

export const roleSchema = { type: 'string', enum: [...roles] } as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1 } },
  additionalProperties: false,
} as const;

export const userSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    username: { type: 'string' },
    role: roleSchema,
    createdAt: { type: 'string', format: 'date-time' },
    disabledAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

/** The body of an action that needs nothing: no body, an empty one, or `{}`; anything else is a 400. */
export const emptyBody = {
  type: 'object',
  properties: {},
  additionalProperties: false,
  description: 'Nothing is needed: send no body, an empty one, or {}.',
} as const;
