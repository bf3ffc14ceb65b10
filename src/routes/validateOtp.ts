import { validateOtp as submitOtp } from '../domain/validate-otp.js';
import { callerOf } from './caller.js';
import type { HandlerFactory } from './types.js';

/** POST /validate_otp: answer the pending verification; a fresh token on success. */
export const validateOtp: HandlerFactory<'validateOtp'> = (ctx) => async (request) => {
  const { userId, token } = await submitOtp(ctx, callerOf(request), request.body?.otp);
  return { user_id: userId, token };
};
