import { createToken as signIn } from '../domain/sessions.js';
import type { HandlerFactory } from './types.js';

/** POST /token: sign the customer in at the bank through Verify. */
export const createToken: HandlerFactory<'createToken'> = (ctx) => async (request) => {
  const { userId, token } = await signIn(ctx, request.body?.username, request.body?.password);
  return { user_id: userId, token };
};
